"""The least any FastAPI answer costs here: one `def` route, no database, no middleware, on the same uvicorn.

Measured like the portal's endpoints (bench.framework), it bounds the API / floor ratio from below: no
list route can answer faster than this, so a floor under a quarter of it cannot be met at 4x by any
FastAPI server, whatever its queries.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
