// Swagger UI on our own contract. Kept out of the page so the CSP needs no
// inline script. No validator badge (nothing fetched from elsewhere), and no
// `?url=` / `?configUrl=` from the address bar: this page shares the portal's
// origin and cookie, so it must only ever show our own document.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    queryConfigEnabled: false,
  });
});
