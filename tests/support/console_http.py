"""The console over HTTP on real servers, as an officer's browser reaches it (tests/ha, tests/chaos_ha): one
cookie jar for every app host (a cookie belongs to a host name, not to a port, so two servers on one address
share it as two app hosts behind one load balancer do), each form's CSRF token read from the page it was
opened on and posted wherever the caller says, and which app host served each step when a load balancer
names it. Redirects are never followed, so every request is one the test chose."""
from __future__ import annotations

from dataclasses import dataclass

import requests

from tests.support.console import CSRF, PASSWORD, compose_fields

SERVED_BY = "X-Served-By"  # haproxy's header in tests/chaos_ha: the app host that answered
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Submitted:
    """One form: where it was opened and where it was posted (the hosts a load balancer named, else None)."""

    page: str
    opened_on: str | None
    posted_to: str | None


class Browser:
    def __init__(self) -> None:
        self.http = requests.Session()
        self.forms: list[Submitted] = []

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=TIMEOUT_SECONDS)

    def submit(self, page: str, action: str, **fields) -> requests.Response:
        """Open the form on `page` and post it to `action` with the CSRF token that page gave."""
        opened = self.get(page)
        assert opened.status_code == 200, f"{page} answered {opened.status_code}"
        token = CSRF.search(opened.text)
        assert token, f"no CSRF token on {page}"
        answer = self.http.post(action, data={"csrf_token": token.group(1), **fields}, allow_redirects=False,
                                timeout=TIMEOUT_SECONDS)
        self.forms.append(Submitted(page, opened.headers.get(SERVED_BY), answer.headers.get(SERVED_BY)))
        return answer

    def sign_in(self, name: str, code: str, form_from: str, post_to: str) -> requests.Response:
        """The password, then the TOTP code the console asks for next, each form opened at the base URL
        `form_from` and posted to `post_to`; the answer to the code."""
        answer = self.submit(f"{form_from}/login", f"{post_to}/login", username=name, password=PASSWORD)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login/code"), \
            f"the console did not ask for the code: {answer.status_code} {answer.headers.get('Location')}"
        return self.submit(f"{form_from}/login/code", f"{post_to}/login/code", code=code)

    def publish_an_exercise(self, one: str, other: str) -> int:
        """A signed-in officer composes an Exercise (compose_fields), the form opened at the base URL `one` and
        posted to `other`, and publishes it, its page opened at `other` and the publish posted to `one`; its id."""
        composed = self.submit(f"{one}/compose", f"{other}/compose", **compose_fields(status="Exercise"))
        assert composed.status_code == 303, composed.text[-2000:]
        alert_id = int(composed.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        published = self.submit(f"{other}/alerts/{alert_id}", f"{one}/alerts/{alert_id}/publish",
                                confirm_status="Exercise")
        assert published.status_code == 303, published.text[-2000:]
        return alert_id

    def signed_in_at(self, url: str) -> bool:
        """The page opens (200) rather than sending the browser to sign in."""
        answer = self.get(url)
        if answer.status_code == 302 and "/login" in answer.headers["Location"]:
            return False
        assert answer.status_code == 200, f"{url} answered {answer.status_code}"
        return True
