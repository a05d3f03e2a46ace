package graph

import (
	"errors"
	"fmt"
	"testing"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/sharing/change"
)

// The sharing service reports kinds of failure; classify alone turns them into codes, shows
// their words, and keeps an unknown kind's text to the log.
func TestClassifyChangeKindsAndIDs(t *testing.T) {
	_, badID := model.DecodeID("!!!", model.TypeDriveItem)
	for _, tc := range []struct {
		err      error
		code     string
		msg      string
		expected bool
	}{
		{&change.Error{Kind: change.Invalid, Message: "not an anonymous link"}, CodeBadUserInput, "not an anonymous link", true},
		{fmt.Errorf("set expiry: %w", &change.Error{Kind: change.NotFound, Message: "gone"}), CodeNotFound, "gone", true},
		{&change.Error{Kind: change.GraphFailed, Message: "Graph is down", Err: errors.New("dial tcp")}, CodeGraphError, "Graph is down", true},
		{&change.Error{Message: "no kind: SELECT secret"}, CodeInternal, "internal error", false},
		{badID, CodeBadUserInput, `"!!!" is not an ID issued by this API`, true},
	} {
		code, msg, expected := classify(tc.err)
		if code != tc.code || msg != tc.msg || expected != tc.expected {
			t.Errorf("classify(%v) = %s %q %v, want %s %q %v", tc.err, code, msg, expected, tc.code, tc.msg, tc.expected)
		}
	}
	if explained(&change.Error{Message: "no kind"}) || !explained(&change.Error{Kind: change.Invalid}) {
		t.Error("explained: only a known kind carries its own answer")
	}
}
