{{/*
Names. The release name is the prefix of every object, as `helm create`
charts do; "sluice" is not repeated when the release name holds it.
*/}}
{{- define "sluice.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sluice.fullname" -}}
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

{{/* Labels every object carries; component is the role (gateway, indexer …). */}}
{{- define "sluice.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: sluice
{{ include "sluice.selectorLabels" . }}
{{- end }}

{{/* Labels that select one workload's pods: its component, and for store
indexers its replica group. */}}
{{- define "sluice.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sluice.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .group }}
sluice/replica-group: {{ . }}
{{- end }}
{{- end }}

{{- define "sluice.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Where the pods mount things. */}}
{{- define "sluice.configDir" -}}/etc/sluice{{- end }}
{{- define "sluice.secretsDir" -}}/etc/sluice/secrets{{- end }}
{{- define "sluice.dataDir" -}}/var/lib/sluice{{- end }}

{{/*
Secrets. The chart's own Secret holds the passwords given in values; an
existing Secret of the user's can hold them instead. Each password reaches
the pods as a file (never an environment variable or a ConfigMap), and the
configuration names that file (kafka.password_file …).
*/}}
{{- define "sluice.secretName" -}}{{ include "sluice.fullname" . }}{{- end }}

{{- define "sluice.kafkaPasswordSet" -}}
{{- if or .Values.kafka.password .Values.kafka.existingSecret }}true{{ end }}
{{- end }}

{{/* KEDA's Kafka scaler authenticates with SASL/PLAIN through a
TriggerAuthentication: when Kafka takes a username and some ScaledObject
has a Kafka trigger. */}}
{{- define "sluice.kedaKafkaAuth" -}}
{{- $v := .Values }}
{{- if and (eq $v.mode "scale-out") $v.keda.kafkaTrigger (not $v.autoscaler.enabled) $v.kafka.username (or (and $v.indexer.enabled $v.indexer.keda.enabled) (and $v.searchIndexer.enabled $v.searchIndexer.keda.enabled)) }}true{{ end }}
{{- end }}

{{/* sluice autoscale sets the indexers' replicas itself (autoscaler.mode
scale): their workloads then get no ScaledObject and no replicas. */}}
{{- define "sluice.autoscalerScales" -}}
{{- if and (eq .Values.mode "scale-out") .Values.autoscaler.enabled (eq .Values.autoscaler.mode "scale") }}true{{ end }}
{{- end }}

{{/* The indexer workloads sluice autoscale runs for, as a JSON list of
{name, kind, group, consumerGroup, keda (the workload's keda values)}. */}}
{{- define "sluice.autoscalerTargets" -}}
{{- $targets := list }}
{{- if and (eq .Values.mode "scale-out") .Values.autoscaler.enabled }}
{{- if .Values.indexer.enabled }}
{{- range $g := .Values.indexer.groups }}
{{- $targets = append $targets (dict "name" (printf "%s-indexer-%s" (include "sluice.fullname" $) $g.name) "kind" "StatefulSet" "group" $g.name "consumerGroup" $g.consumerGroup "keda" $.Values.indexer.keda) }}
{{- end }}
{{- end }}
{{- if .Values.searchIndexer.enabled }}
{{- $targets = append $targets (dict "name" (printf "%s-search-indexer" (include "sluice.fullname" .)) "kind" "Deployment" "group" "search" "consumerGroup" .Values.searchIndexer.consumerGroup "keda" .Values.searchIndexer.keda) }}
{{- end }}
{{- end }}
{{- toJson $targets }}
{{- end }}

{{/* The name of the autoscaler of one indexer group (its Deployment,
ConfigMap and Service). */}}
{{- define "sluice.autoscalerName" -}}
{{ include "sluice.fullname" .root }}-autoscale-{{ .group }}
{{- end }}

{{/* Where KEDA's metrics-api trigger reads the decision of the autoscaler
of one group (autoscaler.mode keda); empty otherwise. */}}
{{- define "sluice.autoscalerURL" -}}
{{- $v := .root.Values }}
{{- if and (eq $v.mode "scale-out") $v.autoscaler.enabled (eq $v.autoscaler.mode "keda") }}
{{- printf "http://%s.%s.svc.%s:%d/api/v1/autoscale" (include "sluice.autoscalerName" .) .root.Release.Namespace $v.clusterDomain (int $v.autoscaler.port) }}
{{- end }}
{{- end }}

{{- define "sluice.searchPasswordSet" -}}
{{- if or .Values.searchIndexer.password .Values.searchIndexer.existingSecret }}true{{ end }}
{{- end }}

{{- define "sluice.searchAPIKeySet" -}}
{{- if or .Values.searchIndexer.apiKey .Values.searchIndexer.existingAPIKeySecret }}true{{ end }}
{{- end }}

{{/* The forward receiver's secrets given in values (receivers.forward:
the shared key and the users' passwords), as a JSON list of {key, path}
items of the Secret forwardSecretName; "[]" when forward is off or its
secrets are in config.forward. Fails on a user without a password. */}}
{{- define "sluice.forwardSecretItems" -}}
{{- $f := .Values.receivers.forward }}
{{- $items := list }}
{{- if and $f.enabled (or $f.sharedKey $f.users) }}
{{- if not (or $f.sharedKey $f.existingSecret) }}
{{- fail "receivers.forward.users need sharedKey, or existingSecret holding it under sharedKeyKey" }}
{{- end }}
{{- $items = append $items (dict "key" $f.sharedKeyKey "path" "forward-shared-key") }}
{{- range $i, $u := $f.users }}
{{- if not (or $u.password $f.existingSecret) }}
{{- fail (printf "receivers.forward.users[%d] (%s) needs a password, or existingSecret holding it under passwordKey" $i $u.username) }}
{{- end }}
{{- $items = append $items (dict "key" ($u.passwordKey | default (printf "forward-user-%d" $i)) "path" (printf "forward-user-%d" $i)) }}
{{- end }}
{{- end }}
{{- toJson $items }}
{{- end }}

{{- define "sluice.forwardSecretName" -}}
{{ .Values.receivers.forward.existingSecret | default (include "sluice.secretName" .) }}
{{- end }}

{{/* The projected volume of the secrets a component needs: kafka (bool),
search (bool), receivers (bool: the forward receiver's), and with auth.enabled the keys file (the querier's key, and
the Kafka tenant signing key where kafka). A projected volume without
subPath: the kubelet updates its files when the Secret changes, and the
server re-reads the keys file. Empty when it needs none. */}}
{{- define "sluice.secretVolume" -}}
{{- $root := .root }}
{{- $sources := list }}
{{- if and .kafka (include "sluice.kafkaPasswordSet" $root) }}
{{- $sources = append $sources (dict "secret" (dict "name" ($root.Values.kafka.existingSecret | default (include "sluice.secretName" $root)) "items" (list (dict "key" $root.Values.kafka.passwordKey "path" "kafka-password")))) }}
{{- end }}
{{- if and .search (include "sluice.searchPasswordSet" $root) }}
{{- $sources = append $sources (dict "secret" (dict "name" ($root.Values.searchIndexer.existingSecret | default (include "sluice.secretName" $root)) "items" (list (dict "key" $root.Values.searchIndexer.passwordKey "path" "search-password")))) }}
{{- end }}
{{- if and .search (include "sluice.searchAPIKeySet" $root) }}
{{- $sources = append $sources (dict "secret" (dict "name" ($root.Values.searchIndexer.existingAPIKeySecret | default (include "sluice.secretName" $root)) "items" (list (dict "key" $root.Values.searchIndexer.apiKeyKey "path" "search-api-key")))) }}
{{- end }}
{{- if .receivers }}
{{- with include "sluice.forwardSecretItems" $root | fromJsonArray }}
{{- $sources = append $sources (dict "secret" (dict "name" (include "sluice.forwardSecretName" $root) "items" .)) }}
{{- end }}
{{- end }}
{{- $a := $root.Values.auth }}
{{- if $a.enabled }}
{{- $items := list (dict "key" $a.keysFileKey "path" "auth-keys.json") }}
{{- if eq .component "querier" }}
{{- $items = append $items (dict "key" $a.querierAPIKeyKey "path" "querier-api-key") }}
{{- end }}
{{- if and .kafka $a.tenantSigningKeyKey }}
{{- $items = append $items (dict "key" $a.tenantSigningKeyKey "path" "kafka-tenant-key") }}
{{- end }}
{{- $sources = append $sources (dict "secret" (dict "name" $a.existingSecret "items" $items)) }}
{{- end }}
{{- if $sources }}
- name: secrets
  projected:
    defaultMode: 0440
    sources:
      {{- toYaml $sources | nindent 6 }}
{{- end }}
{{- end }}

{{/*
The configuration file of one component, as YAML: the values' config (any
option of `sluice config defaults`), then the component's own config
value, then what the chart must set itself (role, listen addresses, Kafka,
sink, data directory, secret files), each level winning over the one
before. Arguments: root, component (values key), settings (a list of YAML
strings).
*/}}
{{- define "sluice.configFile" -}}
{{- $cfg := deepCopy (.root.Values.config | default dict) }}
{{- include "sluice.overlay" (dict "dst" $cfg "src" ((index .root.Values .component).config | default dict)) }}
{{- range .settings }}
{{- include "sluice.overlay" (dict "dst" $cfg "src" (fromYaml .)) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* Sets every key of src in dst, descending into maps both have. Unlike
sprig's merge, a false, 0 or empty value in src wins too. */}}
{{- define "sluice.overlay" -}}
{{- $dst := .dst }}
{{- range $k, $v := .src }}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) }}
{{- include "sluice.overlay" (dict "dst" (get $dst $k) "src" $v) }}
{{- else }}
{{- $_ := set $dst $k (deepCopy $v) }}
{{- end }}
{{- end }}
{{- end }}

{{/* Settings every component shares: where it listens and how long a
graceful stop may take. */}}
{{- define "sluice.commonSettings" -}}
data_dir: {{ include "sluice.dataDir" . }}
http:
  addr: ":{{ .Values.http.port }}"
  shutdown_timeout: {{ .Values.http.shutdownTimeoutSeconds }}s
{{- end }}

{{/* auth.enabled: the keys file, the listener of /metrics and the probes
without a key (for Prometheus), the querier's key and the Kafka tenant
signing key, all files of the projected secrets volume. Arguments: root,
querier (bool), kafka (bool). */}}
{{- define "sluice.authSettings" -}}
{{- $a := .root.Values.auth }}
{{- $dir := include "sluice.secretsDir" .root }}
{{- if $a.enabled }}
auth:
  enabled: true
  keys_file: {{ $dir }}/auth-keys.json
http:
  metrics_addr: ":{{ .root.Values.http.metricsPort }}"
{{- if .querier }}
querier:
  api_key_file: {{ $dir }}/querier-api-key
{{- end }}
{{- if and .kafka $a.tenantSigningKeyKey }}
kafka:
  tenant_signing_key_file: {{ $dir }}/kafka-tenant-key
{{- end }}
{{- end }}
{{- end }}

{{/* HTTPS on the listener of the components that face clients (gateway,
querier, single node) when http.tls.secretName is set. */}}
{{- define "sluice.httpTLSSettings" -}}
{{- if .Values.http.tls.secretName }}
http:
  tls_cert_file: {{ include "sluice.configDir" . }}/tls/http/tls.crt
  tls_key_file: {{ include "sluice.configDir" . }}/tls/http/tls.key
{{- end }}
{{- end }}

{{- define "sluice.kafkaSettings" -}}
{{- $root := .root }}
kafka:
  brokers: {{ toJson $root.Values.kafka.brokers }}
  topic: {{ $root.Values.kafka.topic | quote }}
  dead_letter_topic: {{ $root.Values.kafka.deadLetterTopic | quote }}
  tls: {{ $root.Values.kafka.tls }}
  {{- with $root.Values.kafka.username }}
  username: {{ . | quote }}
  {{- end }}
  {{- if include "sluice.kafkaPasswordSet" $root }}
  password_file: {{ include "sluice.secretsDir" $root }}/kafka-password
  {{- end }}
  {{- with .consumerGroup }}
  consumer_group: {{ . | quote }}
  {{- end }}
{{- end }}

{{/* The receivers with sockets of their own listen on every interface of
the pod (their defaults are loopback, which in a pod is the pod alone). */}}
{{- define "sluice.receiverSettings" -}}
{{- $r := .Values.receivers }}
{{- $auth := .Values.auth.enabled }}
{{- if and $auth $r.syslog.enabled (not $r.syslog.tlsSecretName) }}
{{- fail "receivers.syslog with auth.enabled needs tlsSecretName (a Secret with tls.crt, tls.key and the clients' ca.crt): the tenant is the client certificate's CN" }}
{{- end }}
{{- if and $auth $r.forward.enabled (not $r.forward.users) (not ((.Values.config.forward | default dict).users)) (not ((.Values.gateway.config.forward | default dict).users)) (not ((.Values.single.config.forward | default dict).users)) }}
{{- fail "receivers.forward with auth.enabled needs users, each with its tenant, and a shared key: receivers.forward.users and sharedKey" }}
{{- end }}
{{- $secrets := include "sluice.secretsDir" . }}
forward:
  enabled: {{ $r.forward.enabled }}
  addr: ":{{ $r.forward.port }}"
  {{- if include "sluice.forwardSecretItems" . | fromJsonArray }}
  shared_key_file: {{ $secrets }}/forward-shared-key
  {{- if $r.forward.users }}
  users:
    {{- range $i, $u := $r.forward.users }}
    - {username: {{ $u.username | quote }}, tenant: {{ $u.tenant | quote }}, password_file: {{ printf "%s/forward-user-%d" $secrets $i }}}
    {{- end }}
  {{- end }}
  {{- end }}
syslog:
  enabled: {{ $r.syslog.enabled }}
  {{- if $auth }}
  # Only mutual TLS authenticates a syslog client.
  udp_addr: ""
  tcp_addr: ""
  {{- else }}
  udp_addr: ":{{ $r.syslog.port }}"
  tcp_addr: ":{{ $r.syslog.port }}"
  {{- end }}
  tls_addr: ":{{ $r.syslog.tlsPort }}"
  {{- if $r.syslog.tlsSecretName }}
  tls:
    cert_file: {{ include "sluice.configDir" . }}/tls/syslog/tls.crt
    key_file: {{ include "sluice.configDir" . }}/tls/syslog/tls.key
    {{- if $auth }}
    client_ca_file: {{ include "sluice.configDir" . }}/tls/syslog/ca.crt
    {{- end }}
  {{- end }}
otlp:
  enabled: {{ $r.otlp.enabled }}
  grpc_addr: ":{{ $r.otlp.grpcPort }}"
loki:
  enabled: {{ $r.loki.enabled }}
{{- end }}

{{/* Container ports of the receivers (gateway, single node). */}}
{{- define "sluice.receiverPorts" -}}
{{- $r := .Values.receivers }}
{{- if $r.forward.enabled }}
- {name: forward, containerPort: {{ $r.forward.port }}, protocol: TCP}
- {name: forward-udp, containerPort: {{ $r.forward.port }}, protocol: UDP}
{{- end }}
{{- if $r.syslog.enabled }}
{{- if not .Values.auth.enabled }}
- {name: syslog-tcp, containerPort: {{ $r.syslog.port }}, protocol: TCP}
- {name: syslog-udp, containerPort: {{ $r.syslog.port }}, protocol: UDP}
{{- end }}
{{- if $r.syslog.tlsSecretName }}
- {name: syslog-tls, containerPort: {{ $r.syslog.tlsPort }}, protocol: TCP}
{{- end }}
{{- end }}
{{- if $r.otlp.enabled }}
- {name: otlp-grpc, containerPort: {{ $r.otlp.grpcPort }}, protocol: TCP}
{{- end }}
{{- end }}

{{/* Service ports of the receivers, one per container port above. */}}
{{- define "sluice.receiverServicePorts" -}}
{{- $r := .Values.receivers }}
{{- if $r.forward.enabled }}
- {name: forward, port: {{ $r.forward.port }}, targetPort: forward, protocol: TCP}
- {name: forward-udp, port: {{ $r.forward.port }}, targetPort: forward-udp, protocol: UDP}
{{- end }}
{{- if $r.syslog.enabled }}
{{- if not .Values.auth.enabled }}
- {name: syslog-tcp, port: {{ $r.syslog.port }}, targetPort: syslog-tcp, protocol: TCP}
- {name: syslog-udp, port: {{ $r.syslog.port }}, targetPort: syslog-udp, protocol: UDP}
{{- end }}
{{- if $r.syslog.tlsSecretName }}
- {name: syslog-tls, port: {{ $r.syslog.tlsPort }}, targetPort: syslog-tls, protocol: TCP}
{{- end }}
{{- end }}
{{- if $r.otlp.enabled }}
- {name: otlp-grpc, port: {{ $r.otlp.grpcPort }}, targetPort: otlp-grpc, protocol: TCP}
{{- end }}
{{- end }}

{{/*
The pod spec every component shares. Arguments: root, component (its
label), values (its key in the values, when not the component), group (store indexers), args (the role's), tls (HTTPS on
the HTTP listener), receivers (bool), kafka and search (the secrets it
needs), data (a volume source for the data directory, as YAML, or empty
for a volumeClaimTemplate named data), startup (seconds a start may take:
a store replays its WAL before it listens), instanceID (join the consumer
group as the pod's name).
*/}}
{{/* The Service port of /metrics without a key (auth.enabled), on the
Services that ServiceMonitors select. */}}
{{- define "sluice.metricsServicePort" -}}
{{- if .Values.auth.enabled }}
- {name: metrics, port: {{ .Values.http.metricsPort }}, targetPort: metrics, protocol: TCP}
{{- end }}
{{- end }}

{{- define "sluice.podSpec" -}}
{{- $root := .root }}
{{- $v := index $root.Values (.values | default .component) }}
{{- $scheme := "HTTP" }}
{{- if and .tls $root.Values.http.tls.secretName }}{{ $scheme = "HTTPS" }}{{ end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ add $root.Values.http.preStopSeconds $root.Values.http.shutdownTimeoutSeconds $root.Values.http.flushSeconds }}
{{- with ($v.nodeSelector | default $root.Values.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with ($v.tolerations | default $root.Values.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
topologySpreadConstraints:
  # Spread each role over nodes (both replica groups of store indexers
  # together, so that the two copies of a partition land apart).
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app.kubernetes.io/name: {{ include "sluice.name" $root }}
        app.kubernetes.io/instance: {{ $root.Release.Name }}
        app.kubernetes.io/component: {{ .component }}
containers:
  - name: sluice
    image: {{ include "sluice.image" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args: ["serve", "--config", "{{ include "sluice.configDir" $root }}/sluice.yaml"{{ if .instanceID }}, "--kafka-instance-id", "$(POD_NAME)"{{ end }}]
    {{- if .instanceID }}
    env:
      - name: POD_NAME
        valueFrom:
          fieldRef: {fieldPath: metadata.name}
    {{- end }}
    ports:
      - {name: http, containerPort: {{ $root.Values.http.port }}, protocol: TCP}
      {{- if $root.Values.auth.enabled }}
      - {name: metrics, containerPort: {{ $root.Values.http.metricsPort }}, protocol: TCP}
      {{- end }}
      {{- if .receivers }}
      {{- with include "sluice.receiverPorts" $root | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- end }}
    {{- if $root.Values.http.preStopSeconds }}
    lifecycle:
      # Let endpoints and load balancers stop sending before SIGTERM; the
      # server then finishes running requests for http.shutdown_timeout and
      # flushes, all within terminationGracePeriodSeconds.
      preStop:
        sleep:
          seconds: {{ $root.Values.http.preStopSeconds }}
    {{- end }}
    startupProbe:
      httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
      periodSeconds: 5
      failureThreshold: {{ div (.startup | default 60) 5 }}
    livenessProbe:
      httpGet: {path: /healthz, port: http, scheme: {{ $scheme }}}
      periodSeconds: 10
      timeoutSeconds: 5
      failureThreshold: 3
    readinessProbe:
      httpGet: {path: /readyz, port: http, scheme: {{ $scheme }}}
      periodSeconds: 5
      timeoutSeconds: 3
      failureThreshold: 2
    resources:
      {{- toYaml $v.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    volumeMounts:
      - {name: config, mountPath: {{ include "sluice.configDir" $root }}/sluice.yaml, subPath: sluice.yaml, readOnly: true}
      - {name: data, mountPath: {{ include "sluice.dataDir" $root }}}
      - {name: tmp, mountPath: /tmp}
      {{- if include "sluice.secretVolume" . }}
      - {name: secrets, mountPath: {{ include "sluice.secretsDir" $root }}, readOnly: true}
      {{- end }}
      {{- if and .tls $root.Values.http.tls.secretName }}
      - {name: tls-http, mountPath: {{ include "sluice.configDir" $root }}/tls/http, readOnly: true}
      {{- end }}
      {{- if and .receivers $root.Values.receivers.syslog.tlsSecretName }}
      - {name: tls-syslog, mountPath: {{ include "sluice.configDir" $root }}/tls/syslog, readOnly: true}
      {{- end }}
      {{- with $root.Values.extraVolumeMounts }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
volumes:
  - name: config
    configMap:
      name: {{ .configMap }}
  {{- with .data }}
  - name: data
    {{- . | nindent 4 }}
  {{- end }}
  - name: tmp
    emptyDir: {sizeLimit: 64Mi}
  {{- with include "sluice.secretVolume" . | trim }}
  {{- . | nindent 2 }}
  {{- end }}
  {{- if and .tls $root.Values.http.tls.secretName }}
  - name: tls-http
    secret: {secretName: {{ $root.Values.http.tls.secretName }}, defaultMode: 0440}
  {{- end }}
  {{- if and .receivers $root.Values.receivers.syslog.tlsSecretName }}
  - name: tls-syslog
    secret: {secretName: {{ $root.Values.receivers.syslog.tlsSecretName }}, defaultMode: 0440}
  {{- end }}
  {{- with $root.Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* A PodDisruptionBudget. Arguments: root, name, component, group, spec
(the values' pdb: maxUnavailable or minAvailable). */}}
{{- define "sluice.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  labels:
    {{- include "sluice.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  {{- toYaml .spec | nindent 2 }}
  selector:
    matchLabels:
      {{- include "sluice.selectorLabels" (dict "root" .root "component" .component "group" .group) | nindent 6 }}
{{- end }}

{{/* A KEDA ScaledObject scaling a workload on its consumer group's lag as
the indexers export it: every indexer of a group reports the whole group's
lag, read from the brokers, so the trigger takes max(), not sum(). With
keda.kafkaTrigger, KEDA's Kafka scaler reads the same lag from the brokers
too (offsetResetPolicy earliest: a partition without a commit counts from
its start, as the indexers consume it). With autoscaler (the URL of
sluice autoscale's decision, autoscaler.mode keda) its one trigger is that
decision instead. Arguments: root, name, component, kind, target,
consumerGroup, keda (the values), autoscaler. */}}
{{- define "sluice.scaledObject" -}}
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: {{ .name }}
  labels:
    {{- include "sluice.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: {{ .kind }}
    name: {{ .target }}
  minReplicaCount: {{ .keda.minReplicas }}
  maxReplicaCount: {{ .keda.maxReplicas }}
  pollingInterval: {{ .keda.pollingInterval }}
  cooldownPeriod: {{ .keda.cooldownPeriod }}
  {{- if not .keda.scaleDown }}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        # Scale up only: a store indexer's volume holds what it indexed, so
        # removing the pod would take that copy offline.
        scaleDown:
          selectPolicy: Disabled
  {{- else if .autoscaler }}
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        # sluice autoscale stabilises its decisions already; the HPA's
        # 300 s window would only keep replicas longer.
        scaleDown:
          stabilizationWindowSeconds: 0
  {{- end }}
  triggers:
  {{- if .autoscaler }}
    # The decision of sluice autoscale (autoscaler.mode keda): with a
    # target of 1 per replica the HPA sets the replicas it decided.
    - type: metrics-api
      metadata:
        url: {{ .autoscaler | quote }}
        valueLocation: desired_replicas
        targetValue: "1"
  {{- else }}
    - type: prometheus
      metadata:
        serverAddress: {{ .root.Values.keda.prometheusServerAddress | quote }}
        query: {{ printf "max(sluice_kafka_group_lag{group=%q})" .consumerGroup | quote }}
        threshold: {{ .keda.lagThreshold | quote }}
    {{- if .root.Values.keda.kafkaTrigger }}
    - type: kafka
      metadata:
        bootstrapServers: {{ join "," .root.Values.kafka.brokers | quote }}
        consumerGroup: {{ .consumerGroup | quote }}
        topic: {{ .root.Values.kafka.topic | quote }}
        lagThreshold: {{ .keda.lagThreshold | quote }}
        offsetResetPolicy: earliest
        {{- if .root.Values.kafka.tls }}
        tls: enable
        {{- end }}
        {{- if include "sluice.kedaKafkaAuth" .root }}
        sasl: plaintext
      authenticationRef:
        name: {{ include "sluice.fullname" .root }}-kafka
        {{- end }}
    {{- end }}
  {{- end }}
{{- end }}
