{{/*
Names, labels and shared pod-spec pieces. Everything here is deterministic
(no rand*, no now): `helm template` output is committed as k8s/pedigree.yaml
and CI diffs it.
*/}}

{{/* Chart name, overridable. */}}
{{- define "pedigree.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every resource: the release name, suffixed with the chart name
unless it already contains it. Truncated so "<fullname>-<component>-..."
stays within the 63-character name limit.
*/}}
{{- define "pedigree.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<fullname>-<component>"; call with (dict "ctx" $ "component" "custody"). */}}
{{- define "pedigree.componentName" -}}
{{- printf "%s-%s" (include "pedigree.fullname" .ctx) .component }}
{{- end }}

{{/* helm.sh/chart label value. */}}
{{- define "pedigree.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels (immutable in Deployments: never add to these). */}}
{{- define "pedigree.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pedigree.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Full label set; call with (dict "ctx" $ "component" "custody"). */}}
{{- define "pedigree.labels" -}}
{{ include "pedigree.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: pedigree
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ include "pedigree.chart" .ctx }}
{{- end }}

{{/* Image reference: repository[:tag][@digest]. */}}
{{- define "pedigree.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "pedigree.configMapName" -}}
{{- printf "%s-config" (include "pedigree.fullname" .) }}
{{- end }}

{{/* ConfigMap holding genesis.json: the existing one, or "<fullname>-genesis". */}}
{{- define "pedigree.genesisConfigMapName" -}}
{{- if .Values.genesis.existingConfigMap }}
{{- .Values.genesis.existingConfigMap }}
{{- else }}
{{- printf "%s-genesis" (include "pedigree.fullname" .) }}
{{- end }}
{{- end }}

{{- define "pedigree.sequencerSecretName" -}}
{{- default (printf "%s-sequencer-key" (include "pedigree.fullname" .)) .Values.sequencer.existingSecret }}
{{- end }}

{{- define "pedigree.leaseName" -}}
{{- default (include "pedigree.componentName" (dict "ctx" . "component" "sequencer")) .Values.sequencer.lease.name }}
{{- end }}

{{/*
Fail early on combinations the schema cannot express. Included by every
workload template so `helm template`/`helm lint` catch them.
*/}}
{{- define "pedigree.validate" -}}
{{- if and .Values.genesis.existingConfigMap .Values.genesis.json }}
{{- fail "genesis.existingConfigMap and genesis.json are mutually exclusive: set one" }}
{{- end }}
{{- with .Values.genesis.json }}
{{- $g := fromJson . }}
{{- if hasKey $g "Error" }}
{{- fail (printf "genesis.json is not a JSON object: %s" (get $g "Error")) }}
{{- end }}
{{- range $k := list "chain_id" "sequencer_public_key" "participants" }}
{{- if not (hasKey $g $k) }}
{{- fail (printf "genesis.json has no %q field" $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- $need := add (int .Values.shutdownGraceSeconds) (int .Values.preStopSleepSeconds) }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $need) }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed shutdownGraceSeconds + preStopSleepSeconds (%d), or the kubelet SIGKILLs services that are still draining" (int .Values.terminationGracePeriodSeconds) (int $need)) }}
{{- end }}
{{- range $c := list "custody" "verifier" }}
{{- $a := (index $.Values $c).autoscaling }}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas must not exceed maxReplicas" $c) }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Pod annotations: the config checksums (so pods roll when the chart-managed
ConfigMaps change; an existing genesis ConfigMap or Secret is not tracked),
then global and component annotations.
Call with (dict "ctx" $ "component" "custody").
*/}}
{{- define "pedigree.podAnnotations" -}}
{{- $ctx := .ctx }}
{{- $comp := index $ctx.Values .component }}
checksum/config: {{ include (print $ctx.Template.BasePath "/configmap.yaml") $ctx | sha256sum }}
{{- if $ctx.Values.genesis.json }}
checksum/genesis: {{ include (print $ctx.Template.BasePath "/genesis-configmap.yaml") $ctx | sha256sum }}
{{- end }}
{{- with (merge (dict) $comp.podAnnotations $ctx.Values.podAnnotations) }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod labels: full labels plus global and component extras. */}}
{{- define "pedigree.podLabels" -}}
{{ include "pedigree.labels" . }}
{{- $comp := index .ctx.Values .component }}
{{- with (merge (dict) $comp.podLabels .ctx.Values.podLabels) }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Scheduling: nodeSelector, tolerations, affinity (explicit, or the built-in
anti-affinity preset), topologySpreadConstraints (a labelSelector for the
component is filled in when missing). Call with (dict "ctx" $ "component" "x").
*/}}
{{- define "pedigree.scheduling" -}}
{{- $ctx := .ctx }}
{{- $comp := index $ctx.Values .component }}
{{- with (default $ctx.Values.nodeSelector $comp.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $ctx.Values.tolerations $comp.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $comp.affinity }}
affinity:
  {{- toYaml $comp.affinity | nindent 2 }}
{{- else if eq $comp.antiAffinity "soft" }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "pedigree.selectorLabels" . | nindent 14 }}
{{- else if eq $comp.antiAffinity "hard" }}
affinity:
  podAntiAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "pedigree.selectorLabels" . | nindent 12 }}
{{- end }}
{{- with $comp.topologySpreadConstraints }}
{{- $tscs := list }}
{{- range . }}
{{- $tsc := deepCopy . }}
{{- if not (hasKey $tsc "labelSelector") }}
{{- $_ := set $tsc "labelSelector" (dict "matchLabels" (include "pedigree.selectorLabels" $ | fromYaml)) }}
{{- end }}
{{- $tscs = append $tscs $tsc }}
{{- end }}
topologySpreadConstraints:
  {{- toYaml $tscs | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by all components. */}}
{{- define "pedigree.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
# The release is usually called "pedigree": Docker-link style Service
# variables (PEDIGREE_CUSTODY_PORT=tcp://..., PEDIGREE_VERIFIER_SERVICE_HOST,
# ...) would land in the same PEDIGREE_* namespace as our configuration.
enableServiceLinks: false
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/*
Graceful shutdown. On SIGTERM each service flips its gRPC health to
NOT_SERVING, drains in-flight work and exits within shutdownGraceSeconds;
terminationGracePeriodSeconds (checked above to be larger) is the hard stop.

No preStop hook by default, because:
  * on pod deletion the EndpointSlice controller marks the endpoint
    not-ready at once (it does not wait for the readiness probe), and our
    clients are gRPC: they hold HTTP/2 connections, get GOAWAY when the
    server drains, and reconnect with retries, so the ~1s in which some
    kube-proxy may still route a new connection to the pod costs one retry,
    not a failed request;
  * the image is distroless (no shell, no `sleep`) so an exec hook is
    impossible, and the native `sleep` action needs Kubernetes >= 1.30
    while the chart supports >= 1.25.
Clusters >= 1.30 fronted by something that does not retry (an L4 load
balancer, a non-gRPC client) can set preStopSleepSeconds (e.g. 5).
*/}}
{{- define "pedigree.lifecycle" -}}
{{- if gt (int .Values.preStopSleepSeconds) 0 }}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .Values.preStopSleepSeconds }}
{{- end }}
{{- end }}

{{/*
Native gRPC probes (grpc.health.v1, service "") on the plaintext
health-only probe port (tls.probePort: the kubelet's gRPC probes cannot
speak TLS; that port serves the health status and nothing else).
Call with (dict "ctx" $ "httpReadiness" false).
*/}}
{{- define "pedigree.probes" -}}
{{- $p := .ctx.Values.probes }}
{{- $port := .ctx.Values.tls.probePort }}
startupProbe:
  grpc:
    port: {{ $port }}
  periodSeconds: {{ $p.startup.periodSeconds }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
readinessProbe:
  {{- if .httpReadiness }}
  httpGet:
    path: /readyz
    port: http
    scheme: {{ ternary "HTTP" "HTTPS" .ctx.Values.tls.insecurePlaintext }}
  {{- else }}
  grpc:
    port: {{ $port }}
  {{- end }}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  successThreshold: {{ $p.readiness.successThreshold }}
livenessProbe:
  grpc:
    port: {{ $port }}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
{{- end }}

{{/* The kubernetes.io/tls Secret every server mounts. */}}
{{- define "pedigree.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "pedigree.fullname" .)) .Values.tls.secretName }}
{{- end }}

{{/*
TLS of every server: the certificate and key from the TLS Secret (or
plaintext, only with tls.insecurePlaintext), and the plaintext health-only
probe port the kubelet's native gRPC probes use.
*/}}
{{- define "pedigree.tlsEnv" -}}
{{- if .Values.tls.insecurePlaintext }}
- name: PEDIGREE_INSECURE_PLAINTEXT
  value: "true"
{{- else }}
- name: PEDIGREE_TLS_CERT
  value: /etc/pedigree-tls/tls.crt
- name: PEDIGREE_TLS_KEY
  value: /etc/pedigree-tls/tls.key
{{- end }}
- name: PEDIGREE_PROBE_ADDR
  value: "0.0.0.0:{{ .Values.tls.probePort }}"
{{- end }}

{{/* Environment shared by the components that talk to Redis. */}}
{{- define "pedigree.redisEnv" -}}
{{- if .Values.redis.existingSecret }}
# redis.existingSecret wins over redis.url (which is then not rendered).
- name: PEDIGREE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
{{- end }}
{{- end }}

{{/* Volumes every pod has: writable /tmp and the genesis file. */}}
{{- define "pedigree.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if not .Values.tls.insecurePlaintext }}
- name: tls
  secret:
    secretName: {{ include "pedigree.tlsSecretName" . }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
- name: genesis
  configMap:
    name: {{ include "pedigree.genesisConfigMapName" . }}
    items:
      - key: genesis.json
        path: genesis.json
{{- end }}

{{- define "pedigree.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if not .Values.tls.insecurePlaintext }}
- name: tls
  mountPath: /etc/pedigree-tls
  readOnly: true
{{- end }}
- name: genesis
  mountPath: /etc/pedigree
  readOnly: true
{{- end }}
