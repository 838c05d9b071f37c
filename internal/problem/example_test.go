package problem_test

import (
	"fmt"
	"net/http/httptest"

	"github.com/senfi-sharif/senfi/internal/problem"
)

// A validation problem, quoting the request ID an earlier middleware set.
func ExampleWrite() {
	w := httptest.NewRecorder()
	w.Header().Set(problem.HeaderRequestID, "req-42")
	problem.Write(w, httptest.NewRequest("POST", "/api/things", nil), problem.Problem{
		Status: 400,
		Detail: "title is too short",
		Errors: []problem.FieldError{{Field: "title", Message: "at least 3 characters"}},
	})
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Print(w.Body.String())
	// Output:
	// 400 application/problem+json
	// {"type":"about:blank","title":"Bad Request","status":400,"detail":"title is too short","request_id":"req-42","errors":[{"field":"title","message":"at least 3 characters"}]}
}
