"""Placeholder views so the foundation serves pages; the articles feature replaces them."""

from django.http import Http404
from django.shortcuts import render

from .models import Article


def home(request):
    articles = Article.objects.published().select_related("author")[:10]
    return render(request, "articles/home.html", {"articles": articles})


def article_list(request):
    raise Http404


def article_detail(request, slug):
    raise Http404


def tag_list(request):
    raise Http404


def tag_detail(request, slug):
    raise Http404
