{{- define "flowcrew.fullname" -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "flowcrew.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
{{- define "flowcrew.secretName" -}}{{ .Values.secrets.existingSecret | default (printf "%s-secrets" (include "flowcrew.fullname" .)) }}{{- end -}}
{{/* The environment shared by mains and workers. */}}
{{- define "flowcrew.env" -}}
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.database.existingSecret | default (include "flowcrew.secretName" .) }}, key: {{ ternary "url" "database-url" (ne .Values.database.existingSecret "") }} } }
- name: FLOWCREW_REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.redis.existingSecret | default (include "flowcrew.secretName" .) }}, key: {{ ternary "url" "redis-url" (ne .Values.redis.existingSecret "") }} } }
- name: FLOWCREW_SECRET
  valueFrom: { secretKeyRef: { name: {{ include "flowcrew.secretName" . }}, key: flowcrew-secret } }
- name: FLOWCREW_METRICS_TOKEN
  valueFrom: { secretKeyRef: { name: {{ include "flowcrew.secretName" . }}, key: metrics-token } }
- name: FLOWCREW_INSTANCE_ID
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
{{- end -}}
{{- define "flowcrew.volumes" -}}
- name: tmp
  emptyDir: {}
- name: data
  emptyDir: {}
{{- end -}}
{{- define "flowcrew.mounts" -}}
- { name: tmp, mountPath: /tmp }
- { name: data, mountPath: /data }
{{- end -}}
