package process

import (
	"fmt"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
	"github.com/sluice-log/sluice/internal/tenant"
)

func init() {
	Register(Spec{
		Name:    "route",
		Summary: "Routes a record to a tenant (a team: its own partitions, retention and queries) by the first of a list of conditions it matches; a record no condition matches keeps its tenant.",
		New:     func() Builder { return &routeConfig{} },
	})
}

type routeConfig struct {
	Routes []routeRule `yaml:"routes" doc:"The rules in order, each {if: CONDITION, tenant: NAME}; the condition is a query filter, * matches every record. An empty tenant is the default tenant."`
}

type routeRule struct {
	If     string `yaml:"if"`
	Tenant string `yaml:"tenant"`
}

func (c *routeConfig) Build(Env) (Processor, error) {
	if len(c.Routes) == 0 {
		return nil, fmt.Errorf("routes: write at least one {if: CONDITION, tenant: NAME}")
	}
	p := &routeProc{}
	for i, rr := range c.Routes {
		if rr.If == "" {
			return nil, fmt.Errorf("routes[%d]: if is required (* matches every record)", i)
		}
		if err := tenant.Check(rr.Tenant); err != nil {
			return nil, fmt.Errorf("routes[%d]: %w", i, err)
		}
		f, err := CompileCondition(rr.If)
		if err != nil {
			return nil, fmt.Errorf("routes[%d]: if: %w", i, err)
		}
		p.rules = append(p.rules, compiledRoute{cond: f, tenant: rr.Tenant})
	}
	return p, nil
}

type compiledRoute struct {
	cond   store.Filter
	tenant string
}

type routeProc struct {
	rules []compiledRoute
}

func (p *routeProc) Process(r *record.Record) Result {
	for _, rr := range p.rules {
		if rr.cond.Match(r) {
			r.Tenant = rr.tenant
			break
		}
	}
	return Keep
}
