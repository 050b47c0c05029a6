// Package addon_test checks the add-on's own files against the rules of
// the tools that read them: the Dockerfile with BuildKit's parser, and
// config.yaml with the Supervisor's and the add-on linter's rules, written
// here in the test's own code, and the build graph with BuildKit's converter.
package addon_test
