package normal

import "testing"

func TestResidentID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want PersonID
	}{
		{"canonical ID is valid and returned as is", "110105199003070017",
			PersonID{ID: "110105199003070017", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"check character X is valid", "11010519900307005X",
			PersonID{ID: "11010519900307005X", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"lower-case x is upper-cased", "11010519900307005x",
			PersonID{ID: "11010519900307005X", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"even sequence digit is a woman", "110105199003070025",
			PersonID{ID: "110105199003070025", Valid: true, Birth: "1990-03-07", Male: 2}},
		{"spaces inside as the card system keys them", "110105 19900307 0017",
			PersonID{ID: "110105199003070017", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"leading and trailing blanks, tab and U+3000", " \t110105199003070017\u3000",
			PersonID{ID: "110105199003070017", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"full-width digits and ｘ are folded", "１１０１０５１９９００３０７００５ｘ",
			PersonID{ID: "11010519900307005X", Valid: true, Birth: "1990-03-07", Male: 1}},
		{"15-digit legacy ID is upgraded with a computed check character X", "110105491231002",
			PersonID{ID: "11010519491231002X", Valid: true, Upgraded: true, Birth: "1949-12-31", Male: 2}},
		{"15-digit legacy ID with spaces is upgraded", " 320505 851111 234 ",
			PersonID{ID: "320505198511112347", Valid: true, Upgraded: true, Birth: "1985-11-11", Male: 2}},
		{"15-digit ID with an impossible date is not upgraded", "110105491331002",
			PersonID{ID: "110105491331002", Male: 2, Problem: ProblemBadBirthDate}},
		{"15-digit ID with a letter", "11010549123100A",
			PersonID{ID: "11010549123100A", Problem: ProblemBadChar}},
		{"wrong check character is bad_check but birth and sex are still read", "110105199003070018",
			PersonID{ID: "110105199003070018", Birth: "1990-03-07", Male: 1, Problem: ProblemBadCheck}},
		{"mistyped digit is bad_check", "110105199003071017",
			PersonID{ID: "110105199003071017", Birth: "1990-03-07", Male: 1, Problem: ProblemBadCheck}},
		{"Feb 29 of a leap year is a real date", "310115198002290048",
			PersonID{ID: "310115198002290048", Valid: true, Birth: "1980-02-29", Male: 2}},
		{"Feb 29 of a non-leap year is bad_birth_date even with the right check", "310115198102290045",
			PersonID{ID: "310115198102290045", Male: 2, Problem: ProblemBadBirthDate}},
		{"Feb 29 2000 is real (divisible by 400)", "110105200002290021",
			PersonID{ID: "110105200002290021", Valid: true, Birth: "2000-02-29", Male: 2}},
		{"Feb 29 1900 is not (divisible by 100)", "110105190002290025",
			PersonID{ID: "110105190002290025", Male: 2, Problem: ProblemBadBirthDate}},
		{"month 13", "310115198013010048",
			PersonID{ID: "310115198013010048", Male: 2, Problem: ProblemBadBirthDate}},
		{"1900-01-01 is the first date in range", "110101190001010014",
			PersonID{ID: "110101190001010014", Valid: true, Birth: "1900-01-01", Male: 1}},
		{"2100-12-31 is the last date in range", "110101210012310018",
			PersonID{ID: "110101210012310018", Valid: true, Birth: "2100-12-31", Male: 1}},
		{"1899 is out of range", "11010118991231001X",
			PersonID{ID: "11010118991231001X", Male: 1, Problem: ProblemBadBirthDate}},
		{"region 000000", "000000199001010018",
			PersonID{ID: "000000199001010018", Birth: "1990-01-01", Male: 1, Problem: ProblemBadRegion}},
		{"X anywhere but last is bad_char", "11010519900307X017",
			PersonID{ID: "11010519900307X017", Birth: "1990-03-07", Male: 1, Problem: ProblemBadChar}},
		{"empty", "", PersonID{Problem: ProblemEmpty}},
		{"only blanks is empty", "  \u3000 ", PersonID{Problem: ProblemEmpty}},
		{"passport number is bad_length", "e12345678", PersonID{ID: "E12345678", Problem: ProblemBadLength}},
		{"17 digits is bad_length", "11010519900307001", PersonID{ID: "11010519900307001", Problem: ProblemBadLength}},
		{"19 characters is bad_length", "110105199003070017 1", PersonID{ID: "1101051990030700171", Problem: ProblemBadLength}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ResidentID(tt.in)
			if got != tt.want {
				t.Errorf("ResidentID(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
			if again := ResidentID(got.ID); again.ID != got.ID {
				t.Errorf("not idempotent: %q → %q → %q", tt.in, got.ID, again.ID)
			}
		})
	}
}

func TestResidentIDUpgradeCheckCharacter(t *testing.T) {
	// The upgraded check character is the GB 11643 one of the 17 digits:
	// weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, sum mod 11 into "10X98765432".
	// 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167;
	// 167 mod 11 = 2 → "10X98765432"[2] = 'X'.
	if c := ResidentCheck("11010519491231002"); c != 'X' {
		t.Fatalf("ResidentCheck = %c, want X", c)
	}
	p := ResidentID("110105491231002")
	if p.ID != "11010519491231002X" || !p.Upgraded || !p.Valid {
		t.Fatalf("upgrade = %+v", p)
	}
}

func TestResidentCanonicalInputDoesNotAllocate(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		p := ResidentID("110105199003070017")
		if !p.Valid {
			t.Fatal("not valid")
		}
	})
	// Birth is the one string built; the ID is the input itself.
	if allocs > 1 {
		t.Errorf("allocs = %v, want ≤ 1", allocs)
	}
}

func TestCheckBirth(t *testing.T) {
	id := ResidentID("110105199003070017")
	tests := []struct {
		name  string
		id    PersonID
		birth string
		want  string
	}{
		{"ISO date agrees", id, "1990-03-07", ""},
		{"compact date agrees", id, "19900307", ""},
		{"slashes and single digits agree", id, "1990/3/7", ""},
		{"date with a time agrees", id, "1990-03-07 00:00:00", ""},
		{"surrounding blanks are ignored", id, " 1990-03-07 ", ""},
		{"missing keyed birth date is not a mismatch", id, "", ""},
		{"ID without a birth date is not a mismatch", ResidentID("abc"), "1990-03-07", ""},
		{"another day is a mismatch", id, "1990-03-08", ProblemBirthMismatch},
		{"day and month swapped is a mismatch", id, "1990-07-03", ProblemBirthMismatch},
		{"unreadable date is a mismatch", id, "07/03/1990", ProblemBirthMismatch},
		{"impossible date is a mismatch", id, "1990-02-30", ProblemBirthMismatch},
		{"bad_check ID still has a birth date to compare", ResidentID("110105199003070018"), "1991-03-07", ProblemBirthMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckBirth(tt.id, tt.birth); got != tt.want {
				t.Errorf("CheckBirth(%q, %q) = %q, want %q", tt.id.ID, tt.birth, got, tt.want)
			}
		})
	}
}
