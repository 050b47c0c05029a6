// Package addon_test checks the add-on's own files against the rules of
// the tools that read them: the Dockerfile with BuildKit's parser, and
// config.yaml with the Supervisor's and the add-on linter's rules, written
// here in the test's own code (../shared/research/ha-addon.md).
package addon_test
