package app

import (
	"fmt"
	"net/http"

	"github.com/senfi-sharif/senfi/example/internal/openapi"
)

// mountDocs serves the API's OpenAPI document and its viewers on mux
// (contract §5): GET /api/schema/ (YAML; ?format=json for JSON),
// /api/docs/ (Swagger UI, its files served from the binary) and
// /api/redoc/ (ReDoc, its bundle loaded from SENFI_REDOC_URL, by default
// ReDoc's CDN, optionally pinned by SENFI_REDOC_INTEGRITY). Each page is
// served with the Content-Security-Policy it needs in place of the API's;
// the other security headers of the chain stay.
//
// The document describes every route of the app; the contract test
// (openapi_test.go) fails when a route is missing from it or a response
// does not match it.
func (a *App) mountDocs(mux *http.ServeMux) error {
	doc, err := openapi.New(openapi.Options{AppVersion: Version})
	if err != nil {
		return err
	}
	h, err := openapi.NewHandlers(openapi.HandlerOptions{
		Document:             doc,
		RedocBundleURL:       a.Config.RedocURL,
		RedocBundleIntegrity: a.Config.RedocIntegrity,
	})
	if err != nil {
		return fmt.Errorf("SENFI_REDOC_URL / SENFI_REDOC_INTEGRITY: %w", err)
	}
	return h.Register(mux)
}
