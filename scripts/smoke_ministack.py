"""Deploy infra/template.yaml into ministack and drive one run to `completed` over HTTP.

Called by scripts/smoke-ministack.sh (which builds the functions and starts ministack). Only the
function code locations (S3 objects of the built zips), the architecture (this machine's) and the
public base URL (the emulator's execute-api path) differ from a real deployment.
"""

import argparse
import base64
import hashlib
import json
import re
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3
import yaml

FUNCTIONS = ["api", "webhook", "step", "sweeper"]


def log(msg):
    print(f"[smoke] {msg}", file=sys.stderr, flush=True)


def http(method, url, key=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if key:
        req.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            try:
                return r.status, json.loads(raw or b"null")
            except ValueError:  # a page, not JSON (the console)
                return r.status, raw.decode(errors="replace")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw or b"null")
        except ValueError:
            return e.code, raw.decode(errors="replace")


def packaged_template(text, bucket, arch):
    """The template with each function's CodeUri pointing at its uploaded zip."""
    for f in FUNCTIONS:
        pattern = re.compile(r"(Binary: " + f + r"\n(?:.*\n)*?\s+CodeUri: )\.\.\n")
        text, n = pattern.subn(lambda m: f"{m.group(1)}s3://{bucket}/{f}.zip\n", text, count=1)
        if n != 1:
            raise SystemExit(f"no CodeUri found for function {f}")
    # The render function exists only with Renderer=ffmpeg (not deployed here), but the SAM
    # transform still wants an S3 CodeUri for it.
    pattern = re.compile(r"(Binary: render\n(?:.*\n)*?\s+CodeUri: )\.\.\n")
    text, n = pattern.subn(lambda m: f"{m.group(1)}s3://{bucket}/step.zip\n", text, count=1)
    if n != 1:
        raise SystemExit("no CodeUri found for the render function")
    if arch != "--arm64":
        text = text.replace("Architectures: [arm64]", "Architectures: [x86_64]")
    return text


def template_doc(text):
    """The template as data; short-form intrinsics (`!Ref X`) become `{"Ref": X}`-like maps."""

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {suffix: value}

    Loader.add_multi_constructor("!", tagged)
    return yaml.load(text, Loader=Loader)


def emulator_fixups(doc, stack, session, ep):
    """Two things ministack 1.5.33 does not do from a deployed SAM template, done here from the
    template's own settings: import the HTTP API's routes (SAM expresses them as an OpenAPI body,
    which ministack does not read), and coerce the SQS event source's numeric parameters (it keeps
    `!Ref` values of Number parameters as strings and then fails to compare them)."""
    cf = session.client("cloudformation", endpoint_url=ep)
    lam = session.client("lambda", endpoint_url=ep)
    apigw = session.client("apigatewayv2", endpoint_url=ep)
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cf.describe_stack_resources(StackName=stack)["StackResources"]
    }
    api_id = physical["HttpApi"]
    params = {k: v.get("Default") for k, v in doc.get("Parameters", {}).items()}
    routes = 0
    for logical, res in doc["Resources"].items():
        # A function whose condition is false here (the render function) was not created.
        if res.get("Type") != "AWS::Serverless::Function" or logical not in physical:
            continue
        fn_arn = lam.get_function(FunctionName=physical[logical])["Configuration"]["FunctionArn"]
        integration = None
        for event in (res["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                if integration is None:
                    integration = apigw.create_integration(
                        ApiId=api_id,
                        IntegrationType="AWS_PROXY",
                        IntegrationUri=fn_arn,
                        PayloadFormatVersion="2.0",
                    )["IntegrationId"]
                p = event["Properties"]
                method = "ANY" if p["Method"] == "ANY" else p["Method"].upper()
                apigw.create_route(
                    ApiId=api_id,
                    RouteKey=f"{method} {p['Path']}",
                    Target=f"integrations/{integration}",
                )
                routes += 1
    for m in lam.list_event_source_mappings()["EventSourceMappings"]:
        lam.update_event_source_mapping(
            UUID=m["UUID"],
            BatchSize=int(params["StepBatchSize"]),
            ScalingConfig={"MaximumConcurrency": int(params["StepMaxConcurrency"])},
        )
    log(f"emulator fix-ups: {routes} HTTP API routes from the template's events")


def wait_stack(cf, name, want):
    deadline = time.time() + 300
    while time.time() < deadline:
        s = cf.describe_stacks(StackName=name)["Stacks"][0]
        status = s["StackStatus"]
        if status == want:
            return s
        if status.endswith("FAILED") or "ROLLBACK" in status:
            events = cf.describe_stack_events(StackName=name)["StackEvents"]
            for e in events[:30]:
                if "FAILED" in e.get("ResourceStatus", ""):
                    log(f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}")
            raise SystemExit(f"stack {name}: {status}")
        time.sleep(1)
    raise SystemExit(f"stack {name} did not reach {want}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--lambda-dir", required=True)
    ap.add_argument("--template", required=True)
    ap.add_argument("--arch", default="--arm64")
    args = ap.parse_args()
    ep = args.endpoint
    session = boto3.session.Session(region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=ep)
    cf = session.client("cloudformation", endpoint_url=ep)
    sm = session.client("secretsmanager", endpoint_url=ep)

    suffix = uuid.uuid4().hex[:8]
    code_bucket = f"smoke-code-{suffix}"
    s3.create_bucket(Bucket=code_bucket)
    for f in FUNCTIONS:
        s3.upload_file(f"{args.lambda_dir}/{f}/bootstrap.zip", code_bucket, f"{f}.zip")
    log(f"uploaded {len(FUNCTIONS)} function zips")

    template = packaged_template(open(args.template).read(), code_bucket, args.arch)
    stack = f"smoke-{suffix}"
    prefix = f"smoke{suffix}"
    params = [
        {"ParameterKey": "Prefix", "ParameterValue": prefix},
        # The dev stage: every provider mode left empty is a fake (in the functions).
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
    ]
    started = time.time()
    cf.create_stack(
        StackName=stack,
        TemplateBody=template,
        Parameters=params,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    s = wait_stack(cf, stack, "CREATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in s.get("Outputs", [])}
    log(f"stack created in {time.time() - started:.1f} s: {sorted(outputs)}")
    api_id = re.match(r"https?://([^.]+)\.execute-api", outputs["ApiUrl"]).group(1)
    base = f"{ep}/_aws/execute-api/{api_id}/$default"

    # The public URL in this emulator is its execute-api path: tell the step function (renderer
    # callbacks) and the fakes (video callbacks) through the template's parameter.
    params.append({"ParameterKey": "PublicBaseUrl", "ParameterValue": base})
    cf.update_stack(
        StackName=stack,
        TemplateBody=template,
        Parameters=params,
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    wait_stack(cf, stack, "UPDATE_COMPLETE")
    emulator_fixups(template_doc(template), stack, session, ep)

    # What docs/deploy.md has an operator do after the first deploy: set the secrets.
    key = "smoke-" + uuid.uuid4().hex
    digest = hashlib.sha256(key.encode()).hexdigest()
    sm.put_secret_value(SecretId=outputs["ApiKeyHashesSecretArn"], SecretString=digest)
    video = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    sm.put_secret_value(SecretId=outputs["OpenAiWebhookSecretArn"], SecretString=video)
    sm.put_secret_value(SecretId=outputs["RemotionWebhookSecretArn"], SecretString=uuid.uuid4().hex)
    log(f"API at {base}")

    status, body = http("GET", f"{base}/health")
    if status != 200:
        raise SystemExit(f"health: {status} {body}")
    status, body = http("POST", f"{base}/v1/runs", key, {"brief": "a calm ocean at dawn", "clips": 2})
    if status != 201:
        raise SystemExit(f"start: {status} {body}")
    run_id = body["run_id"]
    log(f"run {run_id} started")
    deadline = time.time() + 240
    seen = []
    while time.time() < deadline:
        status, view = http("GET", f"{base}/v1/runs/{run_id}", key)
        st = view.get("status") if isinstance(view, dict) else None
        if not seen or seen[-1] != st:
            seen.append(st)
            log(f"status {st}")
        if st == "completed":
            break
        if st in ("failed", "rejected", "cancelled", "stalled"):
            raise SystemExit(f"run ended {st}: {json.dumps(view)}")
        gate = {"awaiting_ideation_approval": "ideation", "awaiting_publish_approval": "publish"}.get(st)
        if gate:
            http("POST", f"{base}/v1/runs/{run_id}/approve", key, {"gate": gate})
        time.sleep(0.5)
    else:
        raise SystemExit(f"run did not complete; statuses seen: {seen}")
    published = view.get("artifacts", {}).get("published_url")
    log(f"completed in {time.time() - started:.1f} s; published at {published}")
    # The review console is routed to the api function through the gateway: its sign-in form.
    status, page = http("GET", f"{base}/console/login")
    if status != 200 or "api_key" not in str(page):
        raise SystemExit(f"console: {status} {str(page)[:300]}")
    log("the review console answers through the gateway")
    print(json.dumps({"run_id": run_id, "statuses": seen, "published_url": published}))


if __name__ == "__main__":
    main()
