"""HTTP routers, one module per area of the /v1 API."""
