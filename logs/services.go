package logs

import (
	"embed"
	"encoding/xml"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// ServicePort is one <port protocol= port=> (or <protocol value=>) of a
// firewalld service definition (firewalld.service(5)).
type ServicePort struct {
	Proto string
	From  int
	To    int // 0 unless a range
}

// Services resolves firewalld service names to ports, following
// <include service=> (firewalld ≥0.9).
type Services struct {
	defs map[string]serviceXML
}

type serviceXML struct {
	Ports []struct {
		Protocol string `xml:"protocol,attr"`
		Port     string `xml:"port,attr"`
	} `xml:"port"`
	Protocols []struct {
		Value string `xml:"value,attr"`
	} `xml:"protocol"`
	Includes []struct {
		Service string `xml:"service,attr"`
	} `xml:"include"`
}

//go:embed firewalld-services/*.xml
var defaultServiceFS embed.FS

var defaultServices = sync.OnceValue(func() *Services {
	s := &Services{defs: map[string]serviceXML{}}
	sub, _ := fs.Sub(defaultServiceFS, "firewalld-services")
	_ = s.Load(sub)
	return s
})

// DefaultServices returns the service definitions shipped with firewalld
// 1.3.3 (/usr/lib/firewalld/services of the Debian 12 package).
func DefaultServices() *Services { return defaultServices() }

// NewServices returns the defaults overridden by each fsys in turn, the
// way firewalld lets /etc/firewalld/services override
// /usr/lib/firewalld/services.
func NewServices(fsyss ...fs.FS) (*Services, error) {
	s := &Services{defs: map[string]serviceXML{}}
	for k, v := range DefaultServices().defs {
		s.defs[k] = v
	}
	for _, f := range fsyss {
		if err := s.Load(f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Load reads every *.xml at the top of fsys, replacing earlier definitions.
func (s *Services) Load(fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.xml")
	if err != nil {
		return fmt.Errorf("list services: %w", err)
	}
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return fmt.Errorf("read service %s: %w", n, err)
		}
		var def serviceXML
		if err := xml.Unmarshal(b, &def); err != nil {
			return fmt.Errorf("parse service %s: %w", n, err)
		}
		s.defs[strings.TrimSuffix(path.Base(n), ".xml")] = def
	}
	return nil
}

// Ports lists the ports of a service, sorted; ok is false for an unknown
// service.
func (s *Services) Ports(name string) ([]ServicePort, bool) {
	if _, ok := s.defs[name]; !ok {
		return nil, false
	}
	var out []ServicePort
	s.collect(name, map[string]bool{}, &out)
	sort.Slice(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].Proto < out[j].Proto
	})
	return out, true
}

func (s *Services) collect(name string, seen map[string]bool, out *[]ServicePort) {
	def, ok := s.defs[name]
	if !ok || seen[name] {
		return
	}
	seen[name] = true
	for _, p := range def.Ports {
		if from, to, ok := parsePortRange(p.Port); ok {
			*out = append(*out, ServicePort{Proto: p.Protocol, From: from, To: to})
		}
	}
	for _, p := range def.Protocols {
		*out = append(*out, ServicePort{Proto: p.Value})
	}
	for _, inc := range def.Includes {
		s.collect(inc.Service, seen, out)
	}
}
