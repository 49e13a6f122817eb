"""Wires the browser-facing parts into the app: /static, sign-in redirects, refusal pages, headers."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from intake.web.auth import RoleRefused, SignInRequired, current_user, login_url
from intake.web.contact import FormTooLarge
from intake.web.csrf import CsrfRefused
from intake.web.pages import PageNotFound
from intake.web.security_headers import SecurityHeadersMiddleware
from intake.web.templating import STATIC_DIR, render


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, error: SignInRequired) -> Response:
        return RedirectResponse(login_url(error.next_url), status_code=303)

    @app.exception_handler(RoleRefused)
    async def _role(request: Request, error: RoleRefused) -> Response:
        return render(
            request,
            "refused.html",
            {"page_title": "You cannot use this page", "reason": str(error)},
            user=error.user,
            status_code=403,
        )

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, error: CsrfRefused) -> Response:
        return render(
            request,
            "refused.html",
            {
                "page_title": "This form has expired",
                "reason": "The form was too old or did not come from this website, so nothing was saved. "
                "Go back, reload the page and try again.",
            },
            status_code=403,
        )

    @app.exception_handler(PageNotFound)
    async def _not_found(request: Request, error: PageNotFound) -> Response:
        return render(
            request,
            "refused.html",
            {"page_title": "Page not found", "reason": str(error)},
            user=current_user(request),
            status_code=404,
        )

    @app.exception_handler(FormTooLarge)
    async def _too_large(request: Request, error: FormTooLarge) -> Response:
        settings = request.app.state.runtime.settings.web
        return render(
            request,
            "contact_refused.html",
            {
                "page_title": "Your files are too large",
                "reason": f"The form with its files was too large, so we did not accept it. Each file must be "
                f"smaller than {settings.max_attachment_bytes // (1024 * 1024)}MB. Go back, choose smaller "
                "files or fewer of them, and send the form again.",
                "landlord": None,
            },
            status_code=413,
        )

    app.add_middleware(SecurityHeadersMiddleware, hsts=app.state.runtime.settings.uses_https)
