package main

import (
	"context"
	"time"

	"cdp/cmd/cdp/render"
	"cdp/pipeline/config"
	"cdp/warehouse"
)

// openProject loads the project file and opens its warehouse. When only
// the warehouse fails to open, the project is returned with the error.
func (g *globals) openProject(ctx context.Context) (*config.Project, *warehouse.Warehouse, error) {
	p, err := config.Load(g.config)
	if err != nil {
		return nil, nil, err
	}
	if loc, err := time.LoadLocation(p.Warehouse.TimeZone); err == nil {
		render.Location = loc
	}
	w, err := openWarehouse(ctx, p)
	if err != nil {
		return p, nil, err // the project, for callers that can do without the warehouse
	}
	return p, w, nil
}

func openWarehouse(ctx context.Context, p *config.Project) (*warehouse.Warehouse, error) {
	return warehouse.Open(ctx, p.WarehousePath(), warehouse.Options{
		MemoryLimit: p.Warehouse.MemoryLimit, Threads: p.Warehouse.Threads, TimeZone: p.Warehouse.TimeZone,
	})
}
