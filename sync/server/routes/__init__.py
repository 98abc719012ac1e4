"""HTTP routers, one module per area of the /v1 API."""

from fastapi.responses import Response


class CSVResponse(Response):
    """The response class of the routes that answer a CSV file (they build the Response
    themselves, headers included): it only makes the OpenAPI document say text/csv, where
    FastAPI would promise JSON of any shape."""

    media_type = "text/csv"
