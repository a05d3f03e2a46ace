package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// keyring holds the key that encrypts client secrets and certificate keys at rest (AES-256-GCM).
// The key comes from OVERSHARE_SECRET_KEY, else from a key file in the data
// directory that is created, mode 0600, the first time a secret is written.
type keyring struct {
	path string // key file, used when no key was configured

	mu  sync.Mutex
	key []byte // nil until loaded
	id  string
}

func newKeyring(configured, path string) (*keyring, error) {
	k := &keyring{path: path}
	if configured != "" {
		key, err := parseKey(configured)
		if err != nil {
			return nil, err
		}
		k.key, k.id = key, keyID(key)
		return k, nil
	}
	// Load an existing key file now so a bad one is reported at start-up.
	if _, err := os.Stat(path); err == nil {
		if _, _, err := k.load(false); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func parseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("OVERSHARE_SECRET_KEY must be 32 random bytes written as base64 (44 characters) or hex (64 characters); generate one with: openssl rand -base64 32")
}

// keyID names a key without revealing it.
func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])[:8]
}

// load returns the key, reading the key file (and creating it when create is
// true and it does not exist yet).
func (k *keyring) load(create bool) ([]byte, string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, k.id, nil
	}
	info, err := os.Stat(k.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		if err := k.createFile(); err != nil {
			return nil, "", err
		}
		return k.key, k.id, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("no secret key: set OVERSHARE_SECRET_KEY or restore the key file %s", k.path)
	case err != nil:
		return nil, "", fmt.Errorf("secret key file: %w", err)
	}
	if err := k.readFile(info); err != nil {
		return nil, "", err
	}
	return k.key, k.id, nil
}

// readFile loads the key file, refusing one that others could read.
func (k *keyring) readFile(info fs.FileInfo) error {
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("secret key file %s has mode %04o; it must be readable by its owner only: run chmod 600 %s", k.path, perm, k.path)
	}
	raw, err := os.ReadFile(k.path)
	if err != nil {
		return fmt.Errorf("read secret key file: %w", err)
	}
	key, err := parseKey(string(raw))
	if err != nil {
		return fmt.Errorf("secret key file %s does not hold a 32-byte base64 key", k.path)
	}
	k.key, k.id = key, keyID(key)
	return nil
}

func (k *keyring) createFile() error {
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return fmt.Errorf("create data directory for the secret key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("generate secret key: %w", err)
	}
	// O_EXCL: never overwrite a key that another process just wrote.
	f, err := os.OpenFile(k.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		info, err := os.Stat(k.path)
		if err != nil {
			return fmt.Errorf("secret key file: %w", err)
		}
		return k.readFile(info)
	}
	if err != nil {
		return fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write secret key file: %w", err)
	}
	k.key, k.id = key, keyID(key)
	return nil
}

// seal encrypts plaintext: nonce (12 bytes) || ciphertext+tag. The
// integration id is authenticated as additional data, so a ciphertext copied
// to another integration's row does not decrypt.
func (k *keyring) seal(plaintext, aad string) (ciphertext []byte, id string, err error) {
	key, id, err := k.load(true)
	if err != nil {
		return nil, "", err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, "", fmt.Errorf("encrypt secret: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(plaintext), []byte(aad)), id, nil
}

// open decrypts what seal encrypted; what names it in errors ("client secret", "certificate").
func (k *keyring) open(ciphertext []byte, wantID, aad, what string) (string, error) {
	key, id, err := k.load(false)
	if err != nil {
		return "", err
	}
	if wantID != "" && wantID != id {
		return "", fmt.Errorf("the %s was encrypted with key %s but the configured key is %s: set OVERSHARE_SECRET_KEY (or the data directory's secret.key) to the key with id %s, or enter the %s again", what, wantID, id, wantID, what)
	}
	aead, err := newGCM(key)
	if err != nil {
		return "", err
	}
	if len(ciphertext) < aead.NonceSize() {
		return "", fmt.Errorf("stored %s is corrupt (too short)", what)
	}
	plain, err := aead.Open(nil, ciphertext[:aead.NonceSize()], ciphertext[aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("the %s does not decrypt with key %s: it was changed or encrypted with another key; enter the %s again", what, id, what)
	}
	return string(plain), nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return cipher.NewGCM(block)
}

// secretHint is the last 4 characters of a secret, enough to tell two
// secrets apart in the UI.
func secretHint(secret string) string {
	r := []rune(secret)
	if len(r) <= 8 {
		// Too short to show any of it safely.
		return ""
	}
	return string(r[len(r)-4:])
}
