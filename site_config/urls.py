from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from articles.images.views import serve_media
from articles.sitemaps import ArticleSitemap, PageSitemap, TagSitemap
from protocols.sitemaps import ProtocolSitemap

from . import views
from .page_cache import cache_public_page

sitemaps = {"pages": PageSitemap, "articles": ArticleSitemap, "tags": TagSitemap, "protocols": ProtocolSitemap}

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = settings.SITE_NAME

urlpatterns = [
    # Before the admin's own URLs: staff sign-in's second step and the passkey endpoints.
    path(settings.ADMIN_URL + "two-factor/", include("site_config.two_factor.urls")),
    path(settings.ADMIN_URL + "webauthn/", include("django_otp_webauthn.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("sitemap.xml", cache_public_page(sitemap), {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("csp-report/", views.csp_report, name="csp_report"),
    path("protocols/", include("protocols.urls")),
    # Files on local disk (the embedded setup); with S3 the bucket serves them.
    *(
        []
        if settings.MEDIA_S3_BUCKET
        else [path(settings.MEDIA_URL.lstrip("/") + "<path:name>", serve_media, name="media")]
    ),
    path("", include("articles.urls")),
]

handler404 = "site_config.views.page_not_found"
handler500 = "site_config.views.server_error"
