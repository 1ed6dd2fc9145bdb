from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views.decorators.csrf import csrf_exempt


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse("media-only fixture\n", content_type="text/plain")


@csrf_exempt
def upload(request: HttpRequest, name: str) -> HttpResponse:
    """Saves the request's body as uploads/<name> and answers with the name it was saved under
    and its URL, one a line."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    saved = default_storage.save(f"uploads/{name}", ContentFile(request.body))
    return HttpResponse(f"{saved}\n{default_storage.url(saved)}\n", content_type="text/plain")
