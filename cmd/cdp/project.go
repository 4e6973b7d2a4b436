package main

import (
	"context"
	"os"
	"time"

	"cdp/cmd/cdp/render"
	"cdp/pipeline"
	"cdp/warehouse"
)

// openProject loads the project file and opens its warehouse. When only
// the warehouse fails to open, the project is returned with the error.
func (g *globals) openProject(ctx context.Context) (*pipeline.Project, *warehouse.Warehouse, error) {
	p, err := pipeline.LoadProject(g.config)
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

func openWarehouse(ctx context.Context, p *pipeline.Project) (*warehouse.Warehouse, error) {
	return warehouse.Open(ctx, p.WarehousePath(), warehouse.Options{
		MemoryLimit: p.Warehouse.MemoryLimit, GoLimit: true, Threads: p.Warehouse.Threads, TimeZone: p.Warehouse.TimeZone,
	})
}

// env is the environment a command runs stages in: the project, its
// warehouse, the command's logger and a progress bar on a terminal.
func (g *globals) env(p *pipeline.Project, w *warehouse.Warehouse) *pipeline.Env {
	return &pipeline.Env{Project: p, W: w, Logger: g.logger, Progress: pipeline.TerminalProgress(os.Stderr)}
}

// docsEnv is the environment of the commands that need no warehouse (the
// tag and rule docs): the project when its file exists, else the defaults.
func (g *globals) docsEnv() (*pipeline.Env, error) {
	var p *pipeline.Project
	var err error
	if _, statErr := os.Stat(g.config); statErr == nil {
		p, err = pipeline.LoadProject(g.config)
	} else {
		p, err = pipeline.ParseProject(g.config, nil)
	}
	if err != nil {
		return nil, err
	}
	return &pipeline.Env{Project: p, Logger: g.logger}, nil
}
