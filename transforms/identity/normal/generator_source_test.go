package normal

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// The generator's name tables are unexported; the tests read them from its
// source so that they follow any change to it.
const generatorNames = "../../../internal/synthbank/names.go"

func readGeneratorNames(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.FromSlash(generatorNames))
	if err != nil {
		t.Fatalf("read the generator's name tables: %v", err)
	}
	return string(src)
}

// generatorReadings returns the han → pinyin pairs of names.go's hanzi tables.
func generatorReadings(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, sm := range regexp.MustCompile(`\{"(\p{Han}+)", "([a-z]+)"\}`).FindAllStringSubmatch(readGeneratorNames(t), -1) {
		m[sm[1]] = sm[2]
	}
	if len(m) < 200 {
		t.Fatalf("found only %d hanzi readings in %s", len(m), generatorNames)
	}
	return m
}

// generatorTraditional returns names.go's simplified → traditional map.
func generatorTraditional(t *testing.T) map[rune]rune {
	t.Helper()
	m := map[rune]rune{}
	for _, sm := range regexp.MustCompile(`'(\p{Han})': '(\p{Han})'`).FindAllStringSubmatch(readGeneratorNames(t), -1) {
		m[[]rune(sm[1])[0]] = []rune(sm[2])[0]
	}
	if len(m) < 150 {
		t.Fatalf("found only %d traditional pairs in %s", len(m), generatorNames)
	}
	return m
}
