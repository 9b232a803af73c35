"""Run the real LiteLLM 1.77.3 proxy in database mode on the in-memory Prisma double (tests only).

Takes the arguments the reconciler gives the gateway image (`--config F --port N --num_workers 1`),
so the managed gateway container can run it as its entrypoint (settings `gateway.entrypoint` and
`gateway.mounts`; the image and LiteLLM stay as they are). On the host:
  .cache/litellm-venv/bin/python test/litellm-db/launch.py --config config.yaml --port 4000

The double is installed *before* LiteLLM's own start-up (a wrapped lifespan): start-up then sees a
database client, skips connecting a real one, and runs what it runs with a database — the scheduled
jobs and, with store_model_in_db, the load of DB servers at start and the 10 s poll. LiteLLM's CLI
(proxy_cli) is not used because with DATABASE_URL set it would try Prisma migrations; what it does
besides is pass the config path (CONFIG_FILE_PATH) and start uvicorn with one worker, as here.

PRISMA_DOUBLE=off runs the same proxy without a database. PRISMA_DOUBLE_STATE=<file> keeps the
double's rows across restarts. GET /prisma-double/rows (master key) returns the modelled tables, for tests to read what LiteLLM wrote.
"""
import argparse
import contextlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", required=True)
    p.add_argument("--port", type=int, default=4000)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--num_workers", type=int, default=1)
    a = p.parse_args()
    if a.num_workers != 1:
        sys.exit("launch.py: the double lives in one process; --num_workers must be 1")
    os.environ["CONFIG_FILE_PATH"] = a.config
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    import uvicorn
    from fastapi import Request
    from fastapi.responses import JSONResponse
    from fastapi.encoders import jsonable_encoder
    from litellm.proxy import proxy_server as ps
    from prisma_double import make_prisma_client

    original = ps.app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app):  # type: ignore[no-untyped-def]
        if os.environ.get("PRISMA_DOUBLE") == "off":  # the same launcher without a database (tests)
            async with original(app) as state:
                yield state
            return
        ps.prisma_client = make_prisma_client(ps.proxy_logging_obj)
        print("prisma double: installed before LiteLLM start-up (DATABASE_URL is not used)", flush=True)
        async with original(app) as state:
            yield state

    ps.app.router.lifespan_context = lifespan

    @ps.app.get("/prisma-double/rows", include_in_schema=False)
    async def rows(request: Request) -> JSONResponse:
        key = os.environ.get("LITELLM_MASTER_KEY")
        auth = request.headers.get("authorization", "")
        if not key or auth != f"Bearer {key}":
            return JSONResponse({"error": "master key required"}, status_code=401)
        db = ps.prisma_client.db if ps.prisma_client is not None else None
        tables = {n: list(t.rows.values()) for n, t in db.tables.items()} if db is not None else {}
        return JSONResponse(jsonable_encoder(tables))

    uvicorn.run(ps.app, host=a.host, port=a.port, workers=1, log_level="warning")


if __name__ == "__main__":
    main()
