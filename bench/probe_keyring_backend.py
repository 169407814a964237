"""The probe's keyring backend (see bench.probe_keyring): process-local, seeded from the environment."""

from __future__ import annotations

import json
import os

from app.services.credentials import SERVICE
from app.services.memory_keyring import MemoryKeyring
from bench.probe_keyring import SECRETS_ENV


class SeededKeyring(MemoryKeyring):
    """Starts with the secrets in $PORTAL_DESK_BENCH_SECRETS ({account: secret}, JSON)."""

    def __init__(self) -> None:
        super().__init__()
        for account, secret in json.loads(os.environ.get(SECRETS_ENV) or "{}").items():
            self._items[(SERVICE, account)] = secret
