package agent

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// Container metadata comes from the file's path (the kubelet and Docker
// name their log files after what they hold) and, for Docker, from the
// container's config.v2.json beside the log.

var (
	// /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log
	podsPath = regexp.MustCompile(`/pods/([^/_]+)_([^/_]+)_([^/_]+)/([^/]+)/[^/]+$`)
	// /var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log
	containersPath = regexp.MustCompile(`/containers/([^/_]+)_([^/_]+)_(.+)-([0-9a-f]{64})\.log$`)
	// /var/lib/docker/containers/<id>/<id>-json.log
	dockerPath = regexp.MustCompile(`/containers/([0-9a-f]{64})/[0-9a-f]{64}-json\.log(\.\d+)?$`)
)

// kubernetesLabels names the namespace, pod and container of a CRI log.
func kubernetesLabels(path string) []record.Field {
	path = filepath.ToSlash(path)
	if m := podsPath.FindStringSubmatch(path); m != nil {
		return sorted([]record.Field{{Name: "namespace", Value: m[1]}, {Name: "pod", Value: m[2]}, {Name: "pod_uid", Value: m[3]}, {Name: "container", Value: m[4]}})
	}
	if m := containersPath.FindStringSubmatch(path); m != nil {
		return sorted([]record.Field{{Name: "pod", Value: m[1]}, {Name: "namespace", Value: m[2]}, {Name: "container", Value: m[3]}, {Name: "container_id", Value: m[4]}})
	}
	return nil
}

// dockerLabels names a Docker container: its id from the path, its name
// and image from config.v2.json, and Kubernetes' names when the path is
// the kubelet's.
func dockerLabels(path string) []record.Field {
	if ls := kubernetesLabels(path); ls != nil {
		return ls
	}
	m := dockerPath.FindStringSubmatch(filepath.ToSlash(path))
	if m == nil {
		return nil
	}
	out := []record.Field{{Name: "container_id", Value: m[1]}}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "config.v2.json"))
	if err != nil {
		return out
	}
	var c struct {
		Name   string
		Config struct {
			Image  string
			Labels map[string]string
		}
	}
	if json.Unmarshal(b, &c) != nil {
		return out
	}
	if c.Name != "" {
		out = append(out, record.Field{Name: "container_name", Value: strings.TrimPrefix(c.Name, "/")})
	}
	if c.Config.Image != "" {
		out = append(out, record.Field{Name: "image", Value: c.Config.Image})
	}
	// Compose and Kubernetes labels that name a service.
	for _, k := range []string{"com.docker.compose.project", "com.docker.compose.service", "io.kubernetes.pod.namespace", "io.kubernetes.pod.name", "io.kubernetes.container.name"} {
		if v := c.Config.Labels[k]; v != "" {
			out = append(out, record.Field{Name: k, Value: v})
		}
	}
	return sorted(out)
}

func sorted(fs []record.Field) []record.Field {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
	return fs
}
