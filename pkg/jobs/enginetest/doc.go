// Package enginetest holds the unit tests of the import engine (package jobs): the job state
// machine, chunk delivery and finishing, poison chunks, Submit and Plan, over an in-memory
// jobs.Store and a scripted jobs.Family, with no DynamoDB and no SQS.
//
// They live here rather than in package jobs because a package has one test binary: jobs's
// links its DynamoDB Local and moto fixture (pkg/dev/localstack), which keeps every test of
// that package out of `make test-unit`. This package has no code but this comment; its tests
// (package enginetest_test) see the engine only through its exported API, as a family does.
// Their names start with TestEngine, so `go test -run '^TestEngine'` selects them.
//
// The in-memory store is a test double of the engine's collaborator, not proof that storage
// works: the jobs store's own tests (pkg/jobs/jobstore) run against DynamoDB Local.
package enginetest
