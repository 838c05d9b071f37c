// Starts Swagger UI on the element #swagger-ui with the document named by
// its data-schema-url. A file of its own (not an inline script) so that the
// page's Content-Security-Policy can stay at script-src 'self'.
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    displayRequestDuration: true,
    // No third-party badge image: the document is validated by the tests.
    validatorUrl: null,
    // Tokens stay in memory, not in localStorage.
    persistAuthorization: false,
  });
});
