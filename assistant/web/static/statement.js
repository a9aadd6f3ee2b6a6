// The accessibility statement is public; signed in, the service navigation shows as on every page.
"use strict";
window.PA.api("/api/me").then((r) => { if (r.ok) window.PA.showNav(r.data); });
