package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// casePassphrase returns the passphrase of an encrypted case file: from the
// environment variable named by --key-env or the config's encryption_key_env,
// else asked on the terminal without echo. It is never read from a file or logged.
func (a *app) casePassphrase(confirm bool) (string, error) {
	envName := a.keyEnv
	if envName == "" {
		if cfg, err := a.loadConfig(); err == nil {
			envName = cfg.EncryptionKeyEnv
		}
	}
	if envName != "" {
		if v := os.Getenv(envName); v != "" {
			return v, nil
		}
		return "", usageError("the case file is encrypted and $%s (named for its passphrase) is empty", envName)
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", usageError("the case file is encrypted: set the passphrase in an environment variable and name it with --key-env or encryption_key_env: in the config (no terminal to ask on)")
	}
	defer tty.Close()
	p, err := readHidden(tty, "Case file passphrase: ")
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", usageError("empty passphrase")
	}
	if confirm {
		again, err := readHidden(tty, "Repeat passphrase: ")
		if err != nil {
			return "", err
		}
		if again != p {
			return "", usageError("the passphrases differ")
		}
	}
	return p, nil
}

func readHidden(tty *os.File, prompt string) (string, error) {
	fd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	defer func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }()
	fmt.Fprint(tty, prompt)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
