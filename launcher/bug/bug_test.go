package bug_test

import (
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/bug"
)

func TestCatch(t *testing.T) {
	if p := bug.Catch(func() {}); p != nil {
		t.Fatalf("a function that returns: %v, want nil", p)
	}
	var s []int
	p := bug.Catch(func() { _ = s[7] })
	if p == nil {
		t.Fatal("an index out of range was not caught")
	}
	if got := p.Error(); got != "panic: runtime error: index out of range [7] with length 0" {
		t.Errorf("Error() = %q", got)
	}
	// The stack is the panicking goroutine's, down to the line that panicked.
	// starting with the frame that panicked, past those of the recovery.
	stack := string(p.Stack)
	if !strings.HasPrefix(stack, "goroutine ") || !strings.Contains(strings.SplitN(stack, "\n", 3)[1], "TestCatch.func") ||
		strings.Contains(stack, "debug.Stack") || strings.Contains(stack, "panic(") {
		t.Errorf("the stack does not start where it panicked:\n%s", p.Stack)
	}
	if !strings.Contains(stack, "bug.Catch") || !strings.Contains(stack, "bug_test.TestCatch(") {
		t.Errorf("the stack lacks the callers:\n%s", p.Stack)
	}
	// panic(nil) is a panic too (Go 1.21: *runtime.PanicNilError).
	if p := bug.Catch(func() { panic(nil) }); p == nil {
		t.Error("panic(nil) was not caught")
	}
}
