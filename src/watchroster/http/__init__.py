"""What every request crosses, API and pages alike: middleware, client address, dependencies,
security headers, metrics, OpenAPI, health. Imports `runtime`, `db` and `core`."""
