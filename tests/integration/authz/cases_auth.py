"""Authorization cases of the auth feature: login is public, /me needs a login, /users is admin."""

from tests.integration.authz.harness import ADMIN_ONLY, EVERYONE_LOGGED_IN, PUBLIC, Case

CASES: list[Case] = [
    Case("POST", "/auth/register", PUBLIC, json={"phone": "+27821239999"}),
    # Every caller, anonymous too, gets as far as the body check (400 invalid_phone); a login
    # gate would have answered 401 first.
    Case("POST", "/auth/verify", PUBLIC, json={"phone": "12345", "code": "123456"}),
    Case("POST", "/auth/logout", EVERYONE_LOGGED_IN),
    Case("GET", "/me", EVERYONE_LOGGED_IN),
    Case("PATCH", "/me", EVERYONE_LOGGED_IN, json={"reminders": False}),
    Case("DELETE", "/me", EVERYONE_LOGGED_IN),
    Case("GET", "/users", ADMIN_ONLY),
    Case("PATCH", "/users/{other_id}", ADMIN_ONLY, json={"role": "admin"}),
    Case("PATCH", "/users/{owner_id}", ADMIN_ONLY, json={"active": False}),
]
