"""One Idempotency-Key per logical write of a draft (a new request, a reply).

When the answer to Send is lost, the request or comment may exist already; sending the same draft
again under the same key gets that one back from the portal instead of a duplicate (and a second
email to the office). A changed draft is a new write and gets a new key, as does the next draft
after a success.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable

from app.services.errors import PortalError


class DraftKey:
    def __init__(self) -> None:
        self._content: Hashable = None
        self._key: str | None = None

    def for_content(self, content: Hashable) -> str:
        """The key of this draft: the one of the last failed Send if the draft is unchanged since."""
        if self._key is None or content != self._content:
            self._key = str(uuid.uuid4())
            self._content = content
        return self._key

    def sent(self) -> None:
        """The write is made: the next draft is another write."""
        self._key = None
        self._content = None

    def failed(self, error: Exception) -> None:
        """Kept for the resend, unless the portal says the key went with other content (a file changed
        on disk under the same name and size): then that key can never succeed, so the next Send gets a new one."""
        if isinstance(error, PortalError) and error.code == "idempotency_key_reused":
            self.sent()
