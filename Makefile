# Build, run and test the participant roster.
#
# `sam build` runs `make build-<LogicalID>` (template.yaml: Metadata BuildMethod makefile) with
# ARTIFACTS_DIR set, once per function; the build-* targets below are those entry points, one
# per route of the route tables (pkg/spot/spotapi/routes.go, pkg/snap/snapapi/routes.go), then
# one per worker (pkg/platform/routes.Workers), then one per scheduled function
# (pkg/platform/routes.Schedules). `make generate` writes them from those
# declarations, between the GENERATED BUILD TARGETS markers; a test fails when they are stale.

.DEFAULT_GOAL := help

# This file's own path, read before any include changes MAKEFILE_LIST.
SELF := $(lastword $(MAKEFILE_LIST))

# Static binary named bootstrap, as provided.al2023 expects; lambda.norpc drops the legacy RPC
# entry point that the provided runtimes never use. LAMBDA_ARCH is the functions' architecture
# (template.yaml: arm64); only a command-line LAMBDA_ARCH=<GOARCH> changes it, as the emulator
# harness (pkg/dev/rie) does to run the same build line on the host, so a stray environment
# variable cannot put another architecture into a deployment.
LAMBDA_ARCH = arm64
GO_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) go build -trimpath -tags lambda.norpc -ldflags "-s -w"

# The function list is read from the build-* targets below, so it is written down only once.
FUNCTIONS = $(shell sed -n 's/^build-\([A-Za-z0-9]*\):.*/\1/p' $(SELF))

ENV ?= default

# sam build sets ARTIFACTS_DIR; without it the binary would be written to /bootstrap.
ifneq ($(filter build-%,$(MAKECMDGOALS)),)
ifeq ($(strip $(ARTIFACTS_DIR)),)
$(error ARTIFACTS_DIR is not set: run `sam build` or `make build`, or pass ARTIFACTS_DIR=<dir>)
endif
endif

# BEGIN GENERATED BUILD TARGETS (make generate; do not edit)

build-ListScreenerParticipantsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-screener-participants

build-GetScreenerParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/get-screener-participant

build-DeleteScreenerParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/delete-screener-participant

build-ImportScreenerParticipantsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/import-screener-participants

build-GetScreenerParticipantImportFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/get-screener-participant-import

build-CancelScreenerParticipantImportFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/cancel-screener-participant-import

build-ListScreenerParticipantImportResultsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-screener-participant-import-results

build-ListScreenerParticipantImportsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-screener-participant-imports

build-ListParticipantsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-participants

build-GetParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/get-participant

build-ListScreenersFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-screeners

build-GetScreenerFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/get-screener

build-ListScreenerSessionsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/list-screener-sessions

build-GetScreenerSessionFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/get-screener-session

build-SnapGetUserInfoFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-user-info

build-SnapListSurveysFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-surveys

build-SnapGetSurveyFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-survey

build-SnapListSurveyVariablesFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-survey-variables

build-SnapGetSurveyVariableFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-survey-variable

build-SnapListSurveyResponsesFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-survey-responses

build-SnapListParticipantsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-participants

build-SnapGetParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-participant

build-SnapAddParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-add-participant

build-SnapUpdateParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-update-participant

build-SnapDeleteParticipantFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-delete-participant

build-SnapListParticipantSubjectsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-participant-subjects

build-SnapGetParticipantSubjectFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-participant-subject

build-SnapAddParticipantSubjectFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-add-participant-subject

build-SnapUpdateParticipantSubjectFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-update-participant-subject

build-SnapDeleteParticipantSubjectFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-delete-participant-subject

build-SnapImportParticipantsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-import-participants

build-SnapListParticipantImportsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-participant-imports

build-SnapGetParticipantImportFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-get-participant-import

build-SnapCancelParticipantImportFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-cancel-participant-import

build-SnapListParticipantImportResultsFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/snap-list-participant-import-results

# The $default route (pkg/platform/routes.Default), after the routes.
build-DefaultRouteFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/default-route

# Workers (pkg/platform/routes.Workers): functions fed by a queue, after the routes.
build-ImportWorkerFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/import-worker

# Scheduled functions (pkg/platform/routes.Schedules), after the workers.
build-ImportSweeperFunction:
	$(GO_BUILD) -o "$(ARTIFACTS_DIR)/bootstrap" ./functions/import-sweeper

# END GENERATED BUILD TARGETS

.PHONY: help build generate run test test-unit bench lint lint-api invoke deploy clean ensure-cfn-lint ensure-moto ensure-cc ensure-curl $(addprefix build-,$(FUNCTIONS))

help: ## Show this list
	@echo "Targets:"
	@grep -E '^[a-z-]+:.*## ' $(SELF) | sed -E 's/^([a-z-]+):.*## (.*)/  \1\t\2/' | expand -t 12
	@echo "  build-<LogicalID>  one function into \$$ARTIFACTS_DIR/bootstrap (used by sam build)"

build: ## Build every function into .aws-sam/build/<LogicalID>/bootstrap, as sam build does
	@for id in $(FUNCTIONS); do \
		echo "build $$id"; \
		$(MAKE) --no-print-directory -f $(SELF) build-$$id ARTIFACTS_DIR="$(CURDIR)/.aws-sam/build/$$id" || exit 1; \
	done

generate: ## Write template.yaml's route functions, the build-* targets and functions/ from the route tables
	go run ./cmd/generate

# LAMBDA=emulator serves every route through its function's bootstrap under the Lambda Runtime
# Interface Emulator (default: inprocess, the handlers in local-api's process); WARM=eager
# starts every emulator before serving instead of on each function's first request.
run: ensure-moto ## Serve the API locally (FRESH=1 passes -fresh; LAMBDA=emulator, WARM=eager; ARGS=... passes more flags)
	PATH="$$PATH:$(USER_BIN)" go run ./cmd/local-api $(if $(filter 1,$(FRESH)),-fresh) $(if $(LAMBDA),-lambda $(LAMBDA)) $(if $(WARM),-warm $(WARM)) $(ARGS)

# pip --user puts cfn-lint and moto_server in the user base's bin, which need not be on PATH.
USER_BIN = $(shell python3 -m site --user-base 2>/dev/null)/bin

ensure-cfn-lint:
	@command -v cfn-lint >/dev/null 2>&1 || PATH="$$PATH:$(USER_BIN)" command -v cfn-lint >/dev/null 2>&1 \
		|| python3 -m pip install --user cfn-lint

# moto_server is the local SQS (the import queue); the Python package moto[server] has it.
ensure-moto:
	@command -v moto_server >/dev/null 2>&1 || PATH="$$PATH:$(USER_BIN)" command -v moto_server >/dev/null 2>&1 \
		|| python3 -m pip install --user 'moto[server]'

# The README walk-through tests run its commands in bash with curl: Debian's curl when missing.
ensure-curl:
	@command -v curl >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq curl; }

# The race detector needs cgo, so a C compiler (go env CC; gcc unless set): Debian's gcc when
# it is missing.
ensure-cc:
	@command -v "$$(go env CC)" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq gcc; }

# The packages whose code runs concurrently, tested under the race detector: the
# credentials cache, the write pacer (and the store core's tests beside it), the backoff
# helper, the local SQS poller, the import engine's unit tests (concurrent deliveries of
# a chunk, a finisher taken over while it stalls), the Spot store (a chunk's rows written in
# concurrent groups) and the Snap rate limiter.
RACE_TEST_PACKAGES = ./pkg/platform/auth ./pkg/platform/ddb ./pkg/platform/backoff ./pkg/dev/poller ./pkg/jobs/enginetest \
	./pkg/spot/spotstore ./pkg/platform/ratelimit

# Every other package: `make test` runs the race packages' tests once, under -race (the same
# tests, so running them without it too would check nothing more). Expanded only when used.
OTHER_TEST_PACKAGES = $(filter-out $(shell go list $(RACE_TEST_PACKAGES)),$(shell go list ./...))

# Both runs share one local stack and both always run; the exit code is the first failure's.
test: ensure-cfn-lint ensure-moto ensure-cc ensure-curl ## Run all tests against a local DynamoDB and SQS, the concurrent ones under -race
	$(if $(OTHER_TEST_PACKAGES),,$(error no packages found: does `go list ./...` work?))
	PATH="$$PATH:$(USER_BIN)" go run ./cmd/withstack -- sh -c 'go test -count=1 $(OTHER_TEST_PACKAGES); all=$$?; \
		CGO_ENABLED=1 go test -race -count=1 $(RACE_TEST_PACKAGES); race=$$?; exit $$((all ? all : race))'

# Unit tests need no server and run no program, so they pass in seconds without Java or Python.
# The rule, not a list: a package with tests is left out when its test binary links
# pkg/dev/localstack (which starts DynamoDB Local and moto) or its test files import os/exec
# (they run make, cfn-lint or a child process). `go list -test` prints each package (T: its
# test files' imports) and each test variant of it (D: what the test binary links).
UNIT_TEST_PACKAGES = $(shell go list -test -f \
	'{{if .ForTest}}D {{.ForTest}} {{join .Deps " "}}{{else if or .TestGoFiles .XTestGoFiles}}T {{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}{{end}}' ./... \
	| awk '$$1 == "T" { unit[$$2] = 1 } \
		{ for (i = 3; i <= NF; i++) if ($$i ~ /\/pkg\/dev\/localstack$$/ || ($$1 == "T" && $$i == "os/exec")) server[$$2] = 1 } \
		END { for (p in unit) if (!server[p]) print p }' | sort)

test-unit: ## Run the tests that need no server (no Java, Python or Docker), in seconds
	$(if $(UNIT_TEST_PACKAGES),,$(error no unit test packages found: does `go list ./...` work?))
	go test -count=1 $(UNIT_TEST_PACKAGES)

bench: ensure-moto ## Run the benchmark against a local DynamoDB and SQS
	PATH="$$PATH:$(USER_BIN)" go run ./cmd/withstack -- go run ./cmd/bench

# staticcheck 2026.2.2, pinned; `go run` fetches it through the module proxy the first time and then
# runs it from the build cache.
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Redocly CLI, pinned: its npm package goes into .local/ on first use (one directory per version,
# so a new pin installs afresh), into a temporary directory renamed into place under a lock, so
# concurrent or killed installs never leave a half-installed one. redocly.yaml holds its rules.
REDOCLY_VERSION = 2.77.0
REDOCLY_DIR = .local/redocly-cli-$(REDOCLY_VERSION)
REDOCLY = $(REDOCLY_DIR)/node_modules/.bin/redocly
API_DOCS = api/openapi.yaml api/snap-openapi.yaml

$(REDOCLY):
	@mkdir -p .local
	flock .local/redocly-cli.lock sh -c 'test -x "$(REDOCLY)" && exit 0; \
		tmp="$$(mktemp -d "$(REDOCLY_DIR).tmp-XXXXXX")" && chmod 755 "$$tmp" && \
		npm install --no-audit --no-fund --ignore-scripts --loglevel=error --prefix "$$tmp" @redocly/cli@$(REDOCLY_VERSION) && \
		rm -rf "$(REDOCLY_DIR)" && mv "$$tmp" "$(REDOCLY_DIR)" || { rm -rf "$$tmp"; exit 1; }'

# No usage data sent and no update check: the lint reads local files only.
lint-api: $(REDOCLY) ## Redocly CLI's lint of both API references (api/*.yaml)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --config redocly.yaml $(API_DOCS)

lint: ensure-cfn-lint lint-api ## gofmt, go vet, staticcheck, cfn-lint and Redocly (lint-api)
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt -l:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...
	PATH="$$PATH:$(USER_BIN)" cfn-lint template.yaml

invoke: ## Build one function for this machine and run it under the Lambda emulator: FN=<LogicalID> EVENT=events/<file>.json
	$(if $(FN),,$(error FN=<LogicalID> is required, e.g. make invoke FN=ListScreenersFunction EVENT=events/list-screeners.json))
	$(if $(EVENT),,$(error EVENT=events/<file>.json is required))
	go run ./cmd/invoke -fn "$(FN)" -event "$(EVENT)"

deploy: ## sam build and deploy (ENV=default|prod, from samconfig.toml)
	sam build --config-env $(ENV) && sam deploy --config-env $(ENV)

clean: ## Remove build output
	rm -rf .aws-sam bin
