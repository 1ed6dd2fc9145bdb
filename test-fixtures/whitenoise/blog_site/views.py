from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

MEDIA_NAME = "uploads/hello.txt"


def index(request: HttpRequest) -> HttpResponse:
    # Write through default_storage so the page proves where media files end up.
    if not default_storage.exists(MEDIA_NAME):
        default_storage.save(MEDIA_NAME, ContentFile(b"hello from media\n"))
    context = {"media_url": default_storage.url(MEDIA_NAME)}
    return render(request, "index.html", context)
