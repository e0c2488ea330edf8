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
{{- if and (not .Values.redis.existingSecret) (hasPrefix "redis://" .Values.redis.url) (not .Values.redis.insecurePlaintext) }}
{{- fail "redis.url is plaintext (redis://): use rediss:// (TLS), or set redis.insecurePlaintext=true to accept it" }}
{{- end }}
{{- $kp := .Values.kafka.security.protocol }}
{{- if and (hasPrefix "sasl_" $kp) (not .Values.kafka.security.saslMechanism) }}
{{- fail (printf "kafka.security.protocol %s needs kafka.security.saslMechanism" $kp) }}
{{- end }}
{{- range $key, $_ := .Values.kafka.security.properties }}
{{- if not (or (hasPrefix "ssl." $key) (hasPrefix "sasl." $key)) }}
{{- fail (printf "kafka.security.properties: %s is not an ssl.* or sasl.* property" $key) }}
{{- end }}
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
    {{- with .livenessService }}
    service: {{ . }}
    {{- end }}
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
  value: /etc/pedigree-tls/server/tls.crt
- name: PEDIGREE_TLS_KEY
  value: /etc/pedigree-tls/server/tls.key
{{- end }}
- name: PEDIGREE_PROBE_ADDR
  value: "0.0.0.0:{{ .Values.tls.probePort }}"
{{- end }}

{{/*
Redis environment of a component (custody, sequencer, verifier), each its own
ACL user: the URL from a Secret when redis.existingSecret is set (else the
ConfigMap's), the user name, its password from redis.users.<component>'s
Secret ("<fullname>-redis-<component>" by default), the CA and client certificate mounted by pedigree.commonVolumes.
Call with (dict "ctx" $ "component" "custody").
*/}}
{{- define "pedigree.redisEnv" -}}
{{- $v := .ctx.Values.redis }}
{{- $user := index $v.users .component }}
{{- if $v.existingSecret }}
# redis.existingSecret wins over redis.url (which is then not rendered).
- name: PEDIGREE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $v.existingSecret }}
      key: {{ $v.existingSecretKey }}
{{- end }}
- name: PEDIGREE_REDIS_USER
  value: {{ $user.username | quote }}
- name: PEDIGREE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default (printf "%s-redis-%s" (include "pedigree.fullname" .ctx) .component) $user.passwordSecret }}
      key: {{ $user.passwordSecretKey }}
{{- if $v.caSecret }}
- name: PEDIGREE_REDIS_CA
  value: /etc/pedigree-tls/redis-ca/ca.crt
{{- end }}
{{- if $user.clientCertSecret }}
- name: PEDIGREE_REDIS_CLIENT_CERT
  value: /etc/pedigree-tls/redis-client/tls.crt
- name: PEDIGREE_REDIS_CLIENT_KEY
  value: /etc/pedigree-tls/redis-client/tls.key
{{- end }}
{{- end }}

{{/*
Kafka security environment of a component (custody, sequencer): its SASL
user and password (from kafka.security.<component>'s Secret), the CA and
client certificate mounted by pedigree.commonVolumes. The protocol,
mechanism and extra properties are in the ConfigMap.
Call with (dict "ctx" $ "component" "custody").
*/}}
{{- define "pedigree.kafkaEnv" -}}
{{- $s := .ctx.Values.kafka.security }}
{{- $user := index $s .component }}
{{- if $user.saslUsername }}
- name: PEDIGREE_KAFKA_SASL_USERNAME
  value: {{ $user.saslUsername | quote }}
{{- end }}
{{- if $user.saslPasswordSecret }}
- name: PEDIGREE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $user.saslPasswordSecret }}
      key: {{ $user.saslPasswordSecretKey }}
{{- end }}
{{- if $s.caSecret }}
- name: PEDIGREE_KAFKA_SSL_CA
  value: /etc/pedigree-tls/kafka-ca/ca.crt
{{- end }}
{{- if $user.clientCertSecret }}
- name: PEDIGREE_KAFKA_SSL_CERTIFICATE
  value: /etc/pedigree-tls/kafka-client/tls.crt
- name: PEDIGREE_KAFKA_SSL_KEY
  value: /etc/pedigree-tls/kafka-client/tls.key
{{- end }}
{{- end }}

{{/*
Volumes of a component's pod: writable /tmp, the genesis file, and the
Redis/Kafka CA bundles and client certificates it uses (from Secrets).
Call with (dict "ctx" $ "component" "custody").
*/}}
{{- define "pedigree.commonVolumes" -}}
{{- $ctx := .ctx }}
{{- $redis := $ctx.Values.redis }}
{{- $redisUser := index $redis.users .component }}
{{- $kafka := $ctx.Values.kafka.security }}
{{- $usesKafka := has .component (list "custody" "sequencer" "verifier") }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $ctx.Values.tmpSizeLimit }}
{{- if not $ctx.Values.tls.insecurePlaintext }}
- name: tls
  secret:
    secretName: {{ include "pedigree.tlsSecretName" $ctx }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
- name: genesis
  configMap:
    name: {{ include "pedigree.genesisConfigMapName" $ctx }}
    items:
      - key: genesis.json
        path: genesis.json
{{- if $redis.caSecret }}
- name: redis-ca
  secret:
    secretName: {{ $redis.caSecret }}
    items:
      - key: {{ $redis.caSecretKey }}
        path: ca.crt
{{- end }}
{{- if $redisUser.clientCertSecret }}
- name: redis-client
  secret:
    secretName: {{ $redisUser.clientCertSecret }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- if and $usesKafka $kafka.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ $kafka.caSecret }}
    items:
      - key: {{ $kafka.caSecretKey }}
        path: ca.crt
{{- end }}
{{- if and $usesKafka (index $kafka .component).clientCertSecret }}
- name: kafka-client
  secret:
    secretName: {{ (index $kafka .component).clientCertSecret }}
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- end }}

{{- define "pedigree.commonVolumeMounts" -}}
{{- $ctx := .ctx }}
{{- $kafka := $ctx.Values.kafka.security }}
{{- $usesKafka := has .component (list "custody" "sequencer" "verifier") }}
- name: tmp
  mountPath: /tmp
{{- if not $ctx.Values.tls.insecurePlaintext }}
- name: tls
  mountPath: /etc/pedigree-tls/server
  readOnly: true
{{- end }}
- name: genesis
  mountPath: /etc/pedigree
  readOnly: true
{{- if $ctx.Values.redis.caSecret }}
- name: redis-ca
  mountPath: /etc/pedigree-tls/redis-ca
  readOnly: true
{{- end }}
{{- if (index $ctx.Values.redis.users .component).clientCertSecret }}
- name: redis-client
  mountPath: /etc/pedigree-tls/redis-client
  readOnly: true
{{- end }}
{{- if and $usesKafka $kafka.caSecret }}
- name: kafka-ca
  mountPath: /etc/pedigree-tls/kafka-ca
  readOnly: true
{{- end }}
{{- if and $usesKafka (index $kafka .component).clientCertSecret }}
- name: kafka-client
  mountPath: /etc/pedigree-tls/kafka-client
  readOnly: true
{{- end }}
{{- end }}
