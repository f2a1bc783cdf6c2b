"""Identifiers of cited works: DOI and PMID checks, clean-up and the links readers follow."""

import re
from urllib.parse import quote

from django.core.exceptions import ValidationError

# Crossref's advice: "10." + a registrant code of 4-9 digits + "/" + a suffix. The suffix may
# hold almost anything but spaces; characters a URL needs escaped are escaped in the link.
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIXES = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.I)
# PubMed IDs are positive integers, today 8 digits; 9 leaves room.
_PMID = re.compile(r"[1-9]\d{0,8}")
_PMID_PREFIXES = re.compile(r"^(?:https?://pubmed\.ncbi\.nlm\.nih\.gov/|pmid:?\s*)", re.I)


def normalise_doi(value):
    """A DOI as typed or pasted ("https://doi.org/10.1/x", "doi:10.1/x") without its prefix."""
    return _DOI_PREFIXES.sub("", (value or "").strip()).strip()


def normalise_pmid(value):
    """A PMID as typed or pasted ("PMID: 123", a PubMed address) as its digits."""
    return _PMID_PREFIXES.sub("", (value or "").strip()).strip().rstrip("/")


def validate_doi(value):
    if value and not _DOI.fullmatch(value):
        raise ValidationError(
            "“%(value)s” is not a DOI. A DOI starts with “10.”, 4 to 9 digits and a slash, "
            "e.g. 10.1002/14651858.CD009402.pub3.",
            code="invalid_doi",
            params={"value": value[:60]},
        )


def validate_pmid(value):
    if value and not _PMID.fullmatch(value):
        raise ValidationError(
            "“%(value)s” is not a PubMed ID (PMID): it is a number of up to 9 digits, e.g. 32985218.",
            code="invalid_pmid",
            params={"value": value[:60]},
        )


def doi_url(doi):
    return f"https://doi.org/{quote(doi, safe='/:;()._-')}"


def pubmed_url(pmid):
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def citation_link(*, doi="", pmid="", url=""):
    """Where a citation links: doi.org for a valid DOI, else PubMed for a valid PMID, else the URL."""
    if doi and _DOI.fullmatch(doi):
        return doi_url(doi)
    if pmid and _PMID.fullmatch(pmid):
        return pubmed_url(pmid)
    return url or ""
