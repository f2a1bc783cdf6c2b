from django.urls import path

from . import views

app_name = "protocols"
urlpatterns = [
    path("", views.protocol_list, name="list"),
    # Token routes first: they have their own prefixes, slugs never reach them.
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("confirm/<str:token>/new-link/", views.resend, name="resend"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("<slug:slug>/", views.protocol_detail, name="detail"),
    path("<slug:slug>/thanks/", views.thanks, name="thanks"),
]
