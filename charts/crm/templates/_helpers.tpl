{{/*
Names, labels and the per-service settings every template shares.
*/}}

{{- define "crm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-wide prefix of every resource name (the release name alone when it already contains the chart's). */}}
{{- define "crm.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's resources: (list $ "identity") → crm-identity. */}}
{{- define "crm.componentName" -}}
{{- $root := index . 0 -}}
{{- printf "%s-%s" (include "crm.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "crm.chartLabel" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of a component: (list $ "identity"). Never change them: Deployments' selectors are immutable. */}}
{{- define "crm.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "crm.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{- define "crm.labels" -}}
{{- $root := index . 0 -}}
{{ include "crm.selectorLabels" . }}
app.kubernetes.io/part-of: sales2
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ include "crm.chartLabel" $root }}
{{- end -}}

{{/*
A service's settings: serviceDefaults overlaid with services.<name>, as JSON (use with fromJson).
A key the service sets replaces the default; for maps (resources, autoscaling, probes, ...) the merge
goes one level deep, so `autoscaling: {enabled: true}` keeps the default min/max. Sprig's merge
functions are not used on purpose: they treat false and 0 as "unset" (replicas: 0 would become 2).
Usage: (list $ "identity").
*/}}
{{- define "crm.service" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
{{- $own := index $root.Values.services $name | default dict -}}
{{- $out := dict -}}
{{- range $key, $default := $root.Values.serviceDefaults -}}
{{- if hasKey $own $key -}}
{{- $value := index $own $key -}}
{{- if and (kindIs "map" $default) (kindIs "map" $value) -}}
{{- $merged := deepCopy $default -}}
{{- range $k, $v := $value -}}{{- $_ := set $merged $k $v -}}{{- end -}}
{{- $_ := set $out $key $merged -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- else -}}
{{- $_ := set $out $key (deepCopy $default) -}}
{{- end -}}
{{- end -}}
{{- range $key, $value := $own -}}
{{- if not (hasKey $out $key) -}}{{- $_ := set $out $key $value -}}{{- end -}}
{{- end -}}
{{- $_ := set $out "name" $name -}}
{{- toJson $out -}}
{{- end -}}

{{/* The names of the enabled services, sorted. */}}
{{- define "crm.enabledServices" -}}
{{- $names := list -}}
{{- range $name, $cfg := .Values.services -}}
{{- $svc := include "crm.service" (list $ $name) | fromJson -}}
{{- if $svc.enabled -}}{{- $names = append $names $name -}}{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* Image reference of a service: (list $ $svc). `image.reference` (skaffold sets it) wins over registry/repository:tag. */}}
{{- define "crm.image" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 1 -}}
{{- $img := $svc.image | default dict -}}
{{- if $img.reference -}}
{{- $img.reference -}}
{{- else -}}
{{- $repository := $img.repository | default (printf "crm-%s" $svc.name) -}}
{{- $registry := $root.Values.image.registry -}}
{{- $tag := $img.tag | default $root.Values.image.tag | default $root.Chart.AppVersion -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) $repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "crm.imagePullPolicy" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 1 -}}
{{- ($svc.image | default dict).pullPolicy | default $root.Values.image.pullPolicy -}}
{{- end -}}

{{/* KAFKA_BROKERS: the in-cluster dev broker when devEngines.kafka is on, else kafka.brokers (required). */}}
{{- define "crm.kafkaBrokers" -}}
{{- if and .Values.devEngines.enabled .Values.devEngines.kafka.enabled -}}
{{- printf "%s:9092" (include "crm.componentName" (list . "kafka")) -}}
{{- else -}}
{{- required "kafka.brokers is required (comma-separated host:port of the Kafka brokers), or enable devEngines" .Values.kafka.brokers -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret environment of a service (the data of its ConfigMap, also inlined into its migrations
job), as JSON: (list $ $svc). Values are strings.
*/}}
{{- define "crm.configEnv" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 1 -}}
{{- $env := dict "LOG_LEVEL" $root.Values.logLevel "OTEL_SERVICE_NAME" $svc.name -}}
{{- if $root.Values.otel.endpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" $root.Values.otel.endpoint -}}
{{- end -}}
{{- if eq $svc.protocol "grpc" -}}
{{- $_ := set $env "GRPC_PORT" (toString $svc.port) -}}
{{- else -}}
{{- $_ := set $env "HTTP_PORT" (toString $svc.port) -}}
{{- end -}}
{{- if $svc.kafka -}}
{{- $_ := set $env "KAFKA_BROKERS" (include "crm.kafkaBrokers" $root) -}}
{{- end -}}
{{- range $client := $svc.grpcClients | default list -}}
{{- $target := include "crm.service" (list $root $client) | fromJson -}}
{{- if not (hasKey $root.Values.services $client) -}}
{{- fail (printf "services.%s.grpcClients: no service named %q" $svc.name $client) -}}
{{- end -}}
{{- if ne $target.protocol "grpc" -}}
{{- fail (printf "services.%s.grpcClients: %q does not serve gRPC" $svc.name $client) -}}
{{- end -}}
{{- $_ := set $env (printf "%s_GRPC_ADDR" ($client | upper | replace "-" "_")) (printf "%s:%v" (include "crm.componentName" (list $root $client)) $target.port) -}}
{{- end -}}
{{- range $k, $v := $svc.env | default dict -}}
{{- if regexMatch "^[A-Za-z][A-Za-z0-9+.-]*://[^/@:]+:[^/@]+@" (toString $v) -}}
{{- fail (printf "services.%s.env.%s holds a password: give it through secretEnv (a Secret), never as a value" $svc.name $k) -}}
{{- end -}}
{{- if hasKey ($svc.secretEnv | default dict) $k -}}
{{- fail (printf "services.%s: %s is both in env and in secretEnv" $svc.name $k) -}}
{{- end -}}
{{- $_ := set $env $k (toString $v) -}}
{{- end -}}
{{- toJson $env -}}
{{- end -}}

{{/* env entries that read credentials from Secrets: (list $ $svc). */}}
{{- define "crm.secretEnv" -}}
{{- $svc := index . 1 -}}
{{- range $var, $ref := $svc.secretEnv | default dict }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* Pod-level settings shared by a service's Deployment and its migrations job: (list $ $svc). */}}
{{- define "crm.podCommon" -}}
{{- $root := index . 0 -}}
{{- $svc := index . 1 -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml $svc.podSecurityContext | nindent 2 }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $svc.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $svc.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
