# AWS packaging and deployment; included by the top-level Makefile (`include infra/make.mk`).
# Needs the Makefile's $(STAMP) and $(BIN). See infra/README.md for prerequisites.
#
#   make package                                     # dist/: Glue wheel, Glue script, Lambda zips
#   make deploy ARTIFACTS_BUCKET=my-artifacts        # package, upload, create/update the stack
#   make lint-infra                                  # cfn-lint and checkov on infra/
#   make smoke STACK=tickerlake [SYMBOL=IBM AS_OF=YYYY-MM-DD]   # one symbol through a deployed stack

STACK_NAME       ?= tickerlake
ARTIFACTS_BUCKET ?=
ALERT_EMAIL      ?=
SYMBOLS          ?=
CALLS_PER_MINUTE ?=
CALLS_PER_DAY    ?=
# Anything else for `--parameter-overrides`, e.g. STACK_PARAMS="ScheduleState=DISABLED LogRetentionDays=30"
STACK_PARAMS     ?=
AWS              ?= aws
CHECKOV_VENV     := .venv-checkov
CHECKOV_VERSION  := 3.3.30

_OVERRIDES = $(if $(ALERT_EMAIL),AlertEmail=$(ALERT_EMAIL)) \
             $(if $(SYMBOLS),Symbols=$(SYMBOLS)) \
             $(if $(CALLS_PER_MINUTE),CallsPerMinute=$(CALLS_PER_MINUTE)) \
             $(if $(CALLS_PER_DAY),CallsPerDay=$(CALLS_PER_DAY)) \
             $(STACK_PARAMS)

# make smoke: the stack to test (default: STACK_NAME), one ticker, the session to ingest.
STACK            ?= $(STACK_NAME)
SYMBOL           ?= IBM
AS_OF            ?=

.PHONY: package deploy lint-infra artifacts-bucket stack-outputs smoke

package: $(STAMP)
	$(BIN)/python infra/package.py build

_require-artifacts-bucket:
	@test -n "$(ARTIFACTS_BUCKET)" || { echo "set ARTIFACTS_BUCKET=<an S3 bucket you own in this region> (make artifacts-bucket ARTIFACTS_BUCKET=... creates one)"; exit 2; }
	@command -v $(AWS) >/dev/null || { echo "the AWS CLI ($(AWS)) is not installed: see infra/README.md"; exit 2; }

deploy: _require-artifacts-bucket package
	@$(BIN)/python infra/package.py uploads | while read -r file key; do \
		echo "upload $$key"; \
		$(AWS) s3 cp "$$file" "s3://$(ARTIFACTS_BUCKET)/$$key" --only-show-errors || exit 1; \
	done
	$(AWS) cloudformation deploy \
		--stack-name $(STACK_NAME) \
		--template-file infra/template.yaml \
		--capabilities CAPABILITY_NAMED_IAM \
		--no-fail-on-empty-changeset \
		--parameter-overrides ArtifactsBucket=$(ARTIFACTS_BUCKET) $$($(BIN)/python infra/package.py keys) $(strip $(_OVERRIDES))
	$(AWS) cloudformation describe-stacks --stack-name $(STACK_NAME) --query "Stacks[0].Outputs" --output table

# Deploys nothing: runs one symbol through an existing stack (Lambda, Glue workflow, Athena) and
# checks its row in Athena, printing each step. Credentials and region as for the AWS CLI
# (AWS_PROFILE, AWS_REGION). Exit 2: no credentials or no such stack; 1: a step failed.
smoke: $(STAMP)
	$(BIN)/python -m workflows.smoke --stack $(STACK) --symbol $(SYMBOL) $(if $(AS_OF),--as-of $(AS_OF))

stack-outputs:
	$(AWS) cloudformation describe-stacks --stack-name $(STACK_NAME) --query "Stacks[0].Outputs" --output table

# A private, encrypted bucket for the deploy artifacts (once per account and region).
artifacts-bucket: _require-artifacts-bucket
	$(AWS) s3api head-bucket --bucket $(ARTIFACTS_BUCKET) 2>/dev/null || { \
		region=$$($(AWS) configure get region); \
		if [ "$$region" = "us-east-1" ] || [ -z "$$region" ]; then $(AWS) s3api create-bucket --bucket $(ARTIFACTS_BUCKET); \
		else $(AWS) s3api create-bucket --bucket $(ARTIFACTS_BUCKET) --create-bucket-configuration LocationConstraint=$$region; fi; }
	$(AWS) s3api put-public-access-block --bucket $(ARTIFACTS_BUCKET) \
		--public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
	$(AWS) s3api put-bucket-encryption --bucket $(ARTIFACTS_BUCKET) \
		--server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'

# checkov's pins clash with ours: it gets its own venv, made on first use.
$(CHECKOV_VENV)/bin/checkov:
	@echo "Installing checkov $(CHECKOV_VERSION) into $(CHECKOV_VENV) (first time: about 30 seconds)..."
	@$(PYTHON) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

lint-infra: $(STAMP) $(CHECKOV_VENV)/bin/checkov
	$(BIN)/cfn-lint infra/template.yaml
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --file infra/template.yaml --framework cloudformation --skip-download --compact --quiet
