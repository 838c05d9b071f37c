package mail

import "testing"

// TestDefaultPorts: an unset port follows the TLS mode.
func TestDefaultPorts(t *testing.T) {
	for mode, want := range map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25, "": 587} {
		if got := (SMTPConfig{TLS: mode}).withDefaults().Port; got != want {
			t.Errorf("TLS %q: port %d, want %d", mode, got, want)
		}
	}
	if got := (SMTPConfig{TLS: TLSNone, Port: 2525}).withDefaults().Port; got != 2525 {
		t.Errorf("a set port changed to %d", got)
	}
}
