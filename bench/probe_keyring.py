"""How the probe gives the app a returning user's keyring without loading the keyring package itself.

The probe names `SeededKeyring` in PYTHON_KEYRING_BACKEND rather than installing a backend: the app
then loads the keyring package on first use, as on a user's machine, instead of the probe
importing it before the measured start. This module stays light; the backend class is in
bench.probe_keyring_backend."""

from __future__ import annotations

from app.services.credentials import _account

SECRETS_ENV = "PORTAL_DESK_BENCH_SECRETS"
BACKEND = "bench.probe_keyring_backend.SeededKeyring"


def remembered_sign_in(portal_url: str, email: str, token: str, password: str) -> dict[str, str]:
    """What a "Remember me" sign-in leaves in the keyring ({account: secret}): its token and, beside
    it, its password (a token alone is an unticked sign-in's leftover, which the app forgets)."""
    return {_account(portal_url, email, "token"): token, _account(portal_url, email, "password"): password}
