"""The one gate in front of every page that shows a node's records."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from hanoi247.accounts.services import passed_second_factor

View = Callable[..., HttpResponse]


def only_for(allowed: Callable[[Any], bool]) -> Callable[[View], View]:
    """Signed in with the second factor and ``allowed(user)`` — or 404, never a hint that
    the page or the record exists. Anyone not signed in is sent to log in."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not passed_second_factor(request.user):
                return redirect_to_login(request.get_full_path())
            if not allowed(request.user):
                raise Http404("No such page")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
