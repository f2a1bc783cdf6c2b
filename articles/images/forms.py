from django import forms
from django.core.files.uploadedfile import UploadedFile

from articles.models import Image

from .uploads import clean_upload


class ImageAdminForm(forms.ModelForm):
    """Every new file goes through the upload checks; what is kept is the re-encoded original."""

    replaced_files = ()

    class Meta:
        model = Image
        fields = ["file", "alt_text", "caption", "credit", "focal_x", "focal_y"]
        widgets = {
            "focal_x": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
            "focal_y": forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"}),
        }

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not isinstance(upload, UploadedFile):
            return upload  # unchanged: the stored file stays
        clean = clean_upload(upload)
        instance = self.instance
        if instance.pk:
            # A replaced file: its renditions and crop go with it (deleted once the save commits).
            self.replaced_files = instance.stored_names()
        instance.width, instance.height = clean.width, clean.height
        instance.renditions, instance.renditions_of, instance.social_name, instance.social_focal = [], "", "", ""
        return clean.content

    def clean_alt_text(self):
        alt_text = " ".join(self.cleaned_data["alt_text"].split())
        if alt_text.lower().rsplit(".", 1)[-1] in {"jpg", "jpeg", "png", "webp", "avif"}:
            raise forms.ValidationError("Describe what the image shows; a file name is not alt text.")
        return alt_text
