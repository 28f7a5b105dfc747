package main

import (
	"errors"
	"os"

	"github.com/auditlens/auditlens/internal/config"
)

// loadConfig reads --config, or the default file when it exists. A missing
// default file is an empty configuration; a missing --config file is an error.
func (a *app) loadConfig() (*config.Config, error) {
	path := a.configPath
	if path == "" {
		path = config.Default()
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return &config.Config{}, nil
		}
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, withCode(exitUsage, err)
	}
	return cfg, nil
}

// casePath is --db, else db: of the config.
func (a *app) casePath() (string, error) {
	if a.dbPath != "" {
		return expandHome(a.dbPath), nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return "", err
	}
	if cfg.DB != "" {
		return expandHome(cfg.DB), nil
	}
	return "", usageError("no case file: pass --db FILE or set db: in %s", config.Default())
}
