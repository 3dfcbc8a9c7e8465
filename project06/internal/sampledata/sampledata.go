// Package sampledata writes the sample data of the embedded Project 06
// catalogue: the files its sources read, shaped like the reports ministries
// and provinces really send, with series that pass through the published
// figures the catalogue's facts name. The output depends on nothing but the
// catalogue: a fixed seed, a fixed snapshot date, no clock.
package sampledata

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/units"
)

// seed feeds every pseudo-random choice.
const seed = "kpiwatch/project06 sample v1"

// The snapshot holds the reports due by 2026-11-20: monthly reports up to
// October 2026 (due on 15 November), weekly ones up to the week of
// 9 November, quarterly ones up to the third quarter.
var (
	firstMonth    = month(2022, 1)
	start2024     = month(2024, 1)
	provinceFirst = month(2024, 7) // per-province reports start here, to keep the files small
	mergerMonth   = month(2025, 7) // from here provinces report under the 34 new units
	lastMonth     = month(2026, 10)
	firstWeek     = day(2022, 1, 3)
	lastWeek      = day(2026, 11, 9)
	firstQuarter  = month(2025, 7)
	lastQuarter   = month(2026, 7)
)

func month(y, m int) time.Time { return day(y, m, 1) }

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

// jitter is a pseudo-random number in [-1, 1) fixed by seed and key, so a
// series' noise does not depend on the order things are generated in.
func jitter(key ...string) float64 {
	h := fnv.New64a()
	h.Write([]byte(seed))
	for _, k := range key {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	return float64(mix(h.Sum64())>>11)/float64(1<<53)*2 - 1
}

// mix is splitmix64's finaliser: FNV alone leaves the high bits of keys
// that differ only at the end nearly equal.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// pick chooses one of n deterministically by key.
func pick(n int, key ...string) int { return int((jitter(key...) + 1) / 2 * float64(n)) }

// point is a value a series passes through.
type point struct {
	at time.Time
	v  float64
}

// path is a series drawn linearly through its points, flat outside them.
type path []point

func (p path) at(t time.Time) float64 {
	if !t.After(p[0].at) {
		return p[0].v
	}
	for i := 1; i < len(p); i++ {
		if !t.After(p[i].at) {
			f := float64(t.Sub(p[i-1].at)) / float64(p[i].at.Sub(p[i-1].at))
			return p[i-1].v + f*(p[i].v-p[i-1].v)
		}
	}
	return p[len(p)-1].v
}

func months(from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; !t.After(to); t = t.AddDate(0, 1, 0) {
		out = append(out, t)
	}
	return out
}

// population is the approximate average population in 2023, in thousands,
// of the 63 former provinces by statistics code: it weights the sample's
// denominators so that merged units and national roll-ups look right.
var population = map[string]float64{
	"01": 8587, "02": 899, "04": 547, "06": 326, "08": 805, "10": 775, "11": 640, "12": 482, "14": 1300,
	"15": 846, "17": 876, "19": 1336, "20": 802, "22": 1381, "24": 1922, "25": 1495, "26": 1209, "27": 1517,
	"30": 1947, "31": 2105, "33": 1302, "34": 1882, "35": 878, "36": 1880, "37": 1010, "38": 3741, "40": 3442,
	"42": 1323, "44": 913, "45": 650, "46": 1166, "48": 1246, "49": 1520, "51": 1248, "52": 1505, "54": 877,
	"56": 1253, "58": 598, "60": 1254, "62": 580, "64": 1591, "66": 1918, "67": 670, "68": 1333, "70": 1032,
	"72": 1188, "74": 2763, "75": 3310, "77": 1187, "79": 9456, "80": 1735, "82": 1790, "83": 1297, "84": 1019,
	"86": 1029, "87": 1603, "89": 1906, "91": 1760, "92": 1259, "93": 729, "94": 1198, "95": 921, "96": 1207,
}

// Files returns the content of every source file of the catalogue, keyed by
// its path relative to the catalogue's directory.
func Files(cat *catalogue.Catalogue) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, src := range cat.Sources {
		write, ok := writers[src.ID]
		folder, isFolder := folderWriters[src.ID]
		if !ok && !isFolder {
			return nil, fmt.Errorf("source %s: no sample data is generated for it", src.ID)
		}
		var cfg struct {
			Path string `yaml:"path"`
			DSN  struct {
				File string `yaml:"file"`
			} `yaml:"dsn"`
		}
		if err := src.Config.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("source %s: %w", src.ID, err)
		}
		if isFolder {
			files, err := folder(cat)
			if err != nil {
				return nil, fmt.Errorf("source %s: %w", src.ID, err)
			}
			for name, data := range files {
				out[cfg.Path+"/"+name] = data
			}
			continue
		}
		data, err := write(cat)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.ID, err)
		}
		switch {
		case cfg.Path != "":
			out[cfg.Path] = data
		case strings.HasSuffix(cfg.DSN.File, dsnExt):
			// A database is its SQL script, loaded at run time into the
			// in-memory database the DSN file names (see databaseDSN).
			base := strings.TrimSuffix(cfg.DSN.File, dsnExt)
			out[base+scriptExt] = data
			out[cfg.DSN.File] = []byte(databaseDSN(base[strings.LastIndex(base, "/")+1:]) + "\n")
		default:
			return nil, fmt.Errorf("source %s: no config.path nor config.dsn.file ending in %s to write the sample data to", src.ID, dsnExt)
		}
	}
	return out, nil
}

// A SQLite sample database is committed as the SQL script that builds it
// (text, reviewable, the same bytes on every SQLite version) beside a DSN
// file naming the in-memory database the script is loaded into: SQLite
// cannot open a file inside the binary. project06.Load loads it.
const (
	scriptExt = ".sql"
	dsnExt    = ".dsn"
)

// databaseDSN names a shared in-memory SQLite database: every connection of
// the process that opens it sees the same database.
func databaseDSN(name string) string {
	return "file:project06-" + name + "?mode=memory&cache=shared"
}

// Write writes the files under dir, the catalogue's directory.
func Write(cat *catalogue.Catalogue, dir string) error {
	files, err := Files(cat)
	if err != nil {
		return err
	}
	return genfile.Write(dir, files)
}

// writers make each source's file, by source id.
var writers = map[string]func(*catalogue.Catalogue) ([]byte, error){
	"mps_vneid_weekly":          vneidWeekly,
	"working_group_national":    workingGroupNational,
	"provinces_social_benefits": socialBenefits,
	"provinces_monthly_report":  provincesMonthlyReport,
	"moh_e_health_records":      eHealthRecordsDatabase,
	"roadmap_tasks":             roadmapTasks,
}

// folderWriters make the files of each source that reads a folder, by
// source id: each file's name in the folder and its content.
var folderWriters = map[string]func(*catalogue.Catalogue) (map[string][]byte, error){
	"most_provincial_dti": provincialDTI,
}

// table is a CSV file being written.
type table struct {
	buf bytes.Buffer
	w   *csv.Writer
}

// newTable starts a CSV file; excel makes it the way a spreadsheet in a
// Vietnamese locale saves it: a UTF-8 byte order mark, ";" between fields,
// CRLF line ends.
func newTable(excel bool, header ...string) *table {
	t := &table{}
	t.w = csv.NewWriter(&t.buf)
	if excel {
		t.buf.WriteString("\ufeff")
		t.w.Comma = ';'
		t.w.UseCRLF = true
	}
	t.add(header...)
	return t
}

func (t *table) add(cells ...string) { _ = t.w.Write(cells) }

func (t *table) bytes() ([]byte, error) {
	t.w.Flush()
	return t.buf.Bytes(), t.w.Error()
}

// vnInt writes 1058569 as 1.058.569.
func vnInt(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// vnPercent writes 0.5957 as 59,57%.
func vnPercent(num, den int64) string {
	return strings.Replace(fmt.Sprintf("%.2f%%", 100*float64(num)/float64(den)), ".", ",", 1)
}

// vneidWeekly is the Ministry of Public Security's weekly count of level-2
// VNeID accounts, as the statistics portal exports it: a JSON document with
// the weeks under du_lieu.theo_tuan, one per line.
func vneidWeekly(*catalogue.Catalogue) ([]byte, error) {
	accounts := path{
		{firstWeek, 500_000},
		{day(2023, 6, 19), 16_500_000},  // SGGP, 2023-06-20
		{day(2024, 12, 30), 55_250_000}, // 10th meeting of the National Committee, 2025-02-06
		{day(2025, 9, 22), 65_000_000},  // Lao Dong, 2025-09-24
		{lastWeek, 71_000_000},
	}
	var weeks []string
	for w := firstWeek; !w.After(lastWeek); w = w.AddDate(0, 0, 7) {
		weeks = append(weeks, fmt.Sprintf(`{"tuan_bat_dau": %q, "so_tai_khoan_dinh_danh_muc_2": %d}`, w.Format(time.DateOnly), int64(math.Round(accounts.at(w)))))
	}
	return fmt.Appendf(nil, "{\"trang_thai\": \"ok\", \"du_lieu\": {\"don_vi\": \"Bộ Công an (C06)\", \"cap_nhat\": %q, \"theo_tuan\": [\n%s\n]}}\n",
		lastWeek.AddDate(0, 0, 8).Format(time.DateOnly), strings.Join(weeks, ",\n")), nil
}

// nationalCount is a national count KPI in the working group's file.
type nationalCount struct {
	kpi   string
	from  time.Time
	value func(time.Time) float64
}

// nationalCounts are the working group's national counts, drawn through the
// published figures.
var nationalCounts = []nationalCount{
	{"essential_public_services_online", firstMonth, path{
		{firstMonth, 9},
		{month(2022, 11), 21}, // CAND, 2022-11-28
		{month(2023, 6), 25},
		{month(2024, 11), 44}, // Lao Dong, 2024-11-06
		{month(2025, 2), 54},  // vietnam.vn, 2025-02-13
		{month(2025, 12), 60},
		{lastMonth, 66},
	}.at},
	{"e_health_books_on_vneid", start2024, path{
		{start2024, 1_500_000},
		{month(2024, 10), 14_600_000}, // vietnam.vn, PM's remarks of 2024-10-05
		{month(2025, 9), 24_429_721},  // thongtin.vietnam.vn, second half of 2025
		{month(2025, 12), 26_500_000},
		{lastMonth, 34_000_000},
	}.at},
	// Nationwide on VNeID from 2024-10-01 (Lao Dong, 2024-11-06).
	{"criminal_record_certificates_on_vneid_nationwide", firstMonth, doneFrom(month(2024, 10))},
	{"digital_signature_certificates", firstMonth, path{
		{firstMonth, 2_600_000},
		{month(2024, 12), 12_500_000}, // 10th meeting of the National Committee, 2025-02-06
		{lastMonth, 21_500_000},
	}.at},
	{"bank_cif_biometric_verified", month(2024, 7), path{
		{month(2024, 7), 20_000_000},
		{month(2025, 10), 132_400_000}, // Lao Dong, 2025-10-10
		{lastMonth, 148_000_000},
	}.at},
	// The areas of issue 14's programme report: the published figures, an
	// illustrative path around them (and entirely illustrative where
	// nothing is published, as the catalogue's facts say).
	{"fee_resolutions_outstanding", start2024, path{{start2024, 9}, {month(2024, 3), 4}, {month(2024, 9), 0}}.at},
	{"cashless_social_payment_recipients", month(2023, 7), path{
		{month(2023, 7), 400_000},
		{month(2024, 2), 1_058_569}, // paid before Tet 2024
		{month(2025, 12), 1_400_000},
		{lastMonth, 1_450_000},
	}.at},
	{"network_security_reports_outstanding", start2024, path{{start2024, 19}, {month(2024, 4), 8}, {month(2024, 10), 2}, {lastMonth, 1}}.at},
	{"low_signal_spots", start2024, path{{start2024, 1200}, {month(2024, 3), 300}, {month(2024, 12), 40}, {lastMonth, 0}}.at},
	{"villages_without_electricity", start2024, path{{start2024, 400}, {lastMonth, 150}}.at},
	{"problems_resolved", month(2025, 1), path{{month(2025, 1), 0}, {month(2025, 11), 36}, {month(2025, 12), 39}, {lastMonth, 41}}.at},
	{"hindering_resolutions_outstanding", start2024, path{{start2024, 19}, {month(2024, 12), 6}, {month(2025, 12), 2}, {lastMonth, 1}}.at},
	{"ministry_data_strategies_published", month(2025, 7), path{{month(2025, 7), 0}, {month(2025, 11), 5}, {month(2026, 3), 7}}.at},
	{"credit_scoring_population_data", month(2023, 1), doneFrom(month(2024, 3))},
	{"junk_sim_cleanup", month(2023, 1), doneFrom(month(2024, 8))},
	{"driving_licence_data_cleanup", month(2023, 1), doneFrom(month(2024, 9))},
	{"agency_electronic_identification_codes", month(2023, 1), doneFrom(month(2025, 3))},
	{"electronic_authentication_centre", month(2023, 1), doneFrom(month(2024, 7))},
	{"government_assigned_tasks_overdue", start2024, path{{start2024, 16}, {month(2024, 6), 10}, {month(2024, 12), 4}, {month(2025, 12), 1}, {lastMonth, 0}}.at},
	{"tuyen_quang_roadmap_tasks_done", month(2023, 1), path{{month(2023, 1), 0}, {month(2023, 12), 34}, {month(2024, 12), 55}, {month(2025, 6), 61}}.at},
	{"essential_services_53_outstanding", month(2023, 1), path{{month(2023, 1), 28}, {month(2024, 4), 15}, {month(2024, 12), 6}, {month(2025, 6), 0}}.at},
}

// doneFrom is a milestone done (1) from month done on.
func doneFrom(done time.Time) func(time.Time) float64 {
	return func(t time.Time) float64 {
		if t.Before(done) {
			return 0
		}
		return 1
	}
}

// simplification is the national share of administrative procedures cut or
// simplified, out of a sample scope of 2,000 procedures.
var simplification = path{
	{start2024, 0.04},
	{month(2025, 7), 0.18}, // Lao Dong, 2025-07-20
	{month(2026, 2), 0.30},
	{lastMonth, 0.34},
}

const simplificationScope = 2000

// overdueTasks are the roadmap tasks each ministry has overdue at the start
// of 2024, end of 2024, July 2025 (75 across 9 ministries, Lao Dong,
// 2025-07-20), end of 2025, mid-2026 and October 2026. The split across
// ministries is the sample's own.
var (
	overdueAt    = []time.Time{start2024, month(2024, 12), month(2025, 7), month(2025, 12), month(2026, 6), lastMonth}
	overdueTasks = []struct {
		ministry string
		counts   []float64
	}{
		{"mof", []float64{2, 6, 14, 8, 4, 2}},
		{"moh", []float64{1, 5, 11, 6, 2, 0}},
		{"most", []float64{2, 5, 10, 5, 2, 1}},
		{"moha", []float64{1, 4, 9, 5, 3, 2}},
		{"moet", []float64{1, 3, 8, 3, 0, 0}},
		{"mae", []float64{1, 3, 7, 4, 2, 1}},
		{"moj", []float64{0, 2, 6, 2, 0, 0}},
		{"moc", []float64{1, 3, 6, 3, 1, 0}},
		{"moit", []float64{0, 2, 4, 1, 0, 0}},
		{"mps", []float64{0, 1, 0, 0, 0, 0}},
		{"sbv", []float64{0, 0, 0, 0, 0, 0}},
		// The other three blocks report on their own roadmap tasks.
		{"party_office", []float64{0, 0, 0, 0, 0, 0}},
		{"na_office", []float64{0, 0, 0, 0, 0, 0}},
		{"vff", []float64{0, 0, 0, 0, 0, 0}},
	}
)

// workingGroupNational is the Project 06 working group's consolidated
// national file: one row per KPI and month in long format, ISO dates, the
// ministries spelled as their reports spell them, a totals row for the
// roadmap tasks.
func workingGroupNational(cat *catalogue.Catalogue) ([]byte, error) {
	t := newTable(false, "kpi", "ministry", "period", "value", "numerator", "denominator")
	for _, m := range months(firstMonth, lastMonth) {
		end := m.AddDate(0, 1, -1).Format(time.DateOnly)
		for _, c := range nationalCounts {
			if !m.Before(c.from) {
				t.add(c.kpi, "", end, fmt.Sprint(int64(math.Round(c.value(m)))), "", "")
			}
		}
		if !m.Before(start2024) {
			num := int64(math.Round(simplification.at(m) * simplificationScope))
			t.add("admin_procedure_simplification_rate", "", end, fmt.Sprintf("%.4f", float64(num)/simplificationScope), fmt.Sprint(num), fmt.Sprint(simplificationScope))
			total := int64(0)
			for _, o := range overdueTasks {
				var p path
				for i, at := range overdueAt {
					p = append(p, point{at, o.counts[i]})
				}
				n := int64(math.Round(p.at(m)))
				total += n
				name, err := ministrySpelling(cat, o.ministry, m)
				if err != nil {
					return nil, err
				}
				t.add("roadmap_tasks_overdue", name, end, fmt.Sprint(n), "", "")
			}
			t.add("roadmap_tasks_overdue", "Tổng cộng", end, fmt.Sprint(total), "", "")
		}
	}
	return t.bytes()
}

// mergedAway are ministries merged into another on 2025-03-01: the catalogue
// keeps their names as aliases of the successor, for old reports, but a
// report on the successor's own tasks never uses them.
var mergedAway = []string{"Bộ Thông tin và Truyền thông", "Bộ Kế hoạch và Đầu tư", "Bộ Giao thông vận tải"}

// ministrySpelling is one of the ways an owner's name appears in reports.
func ministrySpelling(cat *catalogue.Catalogue, id string, m time.Time) (string, error) {
	o, ok := cat.Owner(id)
	if !ok {
		return "", fmt.Errorf("owner %q is not in the catalogue", id)
	}
	names := []string{o.NameVI}
	for _, a := range o.Aliases {
		if !slices.Contains(mergedAway, a) {
			names = append(names, a)
		}
	}
	return names[pick(len(names), id, m.Format("2006-01"))], nil
}

// provinceRatio is a ratio KPI reported per province.
type provinceRatio struct {
	kpi string
	// national is the roll-up (sum of numerators over sum of denominators)
	// the reporting provinces follow.
	national path
	// den is a former province's denominator in a month.
	den func(code string, m time.Time) float64
	// spread is how far a unit's ratio strays from the national one (as a
	// factor); leaders are units far ahead, by 2025 name.
	spread  float64
	leaders map[string]float64
	// silent units never report; the others report until lastReport.
	silent     []string
	lastReport map[string]time.Time
}

func totalPopulation(codes []string) float64 {
	s := 0.0
	for _, c := range codes {
		s += population[c]
	}
	return s
}

// unitOf is the 2025 unit a 2008 province became part of.
func unitOf(f units.FormerProvince) units.Unit {
	ps := provinces()
	return ps[slices.IndexFunc(ps, func(p units.Unit) bool { return p.Code == f.Into })]
}

// provinces are the 34 provinces in force.
func provinces() []units.Unit { return units.Default().Level("province").Current() }

// formerCodes lists the former provinces outside the excluded 2025 units.
func formerCodes(exclude []string) []string {
	var out []string
	for _, f := range units.Former() {
		if !slices.Contains(exclude, unitOf(f).Name) {
			out = append(out, f.Code)
		}
	}
	return out
}

// socialSilent are the six units that never report payments through an
// account: the published figure covers 28 of 34 provinces.
var socialSilent = []string{"Cao Bang", "Dien Bien", "Lang Son", "Ha Tinh", "Quang Tri", "Can Tho"}

var socialBenefit = func() provinceRatio {
	// 5.88 million recipients in the 28 reporting provinces at the end of
	// 2025 (VietnamPlus), growing 0.2% a month.
	perThousand := 5_880_000 / totalPopulation(formerCodes(socialSilent)) / (1 + 0.002*23)
	return provinceRatio{
		kpi: "social_benefit_paid_by_bank",
		national: path{
			{start2024, 0.21},
			{month(2025, 12), 0.4026}, // VietnamPlus: 40.26% in 28 of 34 provinces
			{lastMonth, 0.55},
		},
		den: func(code string, m time.Time) float64 {
			return population[code] * perThousand * (1 + 0.002*monthsSince(start2024, m))
		},
		spread:  0.3,
		leaders: map[string]float64{"Da Nang": 3, "Hue": 3, "Quang Ninh": 3, "Bac Ninh": 3},
		silent:  socialSilent,
	}
}()

var fullProcessOnline = provinceRatio{
	kpi: "full_process_online_service_rate",
	national: path{
		{start2024, 0.06},
		{month(2025, 7), 0.1521}, // Lao Dong, 2025-07-20: 15.21% in the provinces
		{month(2025, 12), 0.27},
		{lastMonth, 0.41},
	},
	// Administrative procedures in scope in a province: about a thousand.
	den:     func(code string, _ time.Time) float64 { return 1000 + 250*jitter("procedures", code) },
	spread:  0.35,
	leaders: map[string]float64{"Hai Phong": 2.3, "Hue": 2.3, "Da Nang": 2.3},
}

var onlineDossiers = provinceRatio{
	kpi: "online_dossier_rate",
	national: path{
		{start2024, 0.42},
		{month(2024, 12), 0.56}, // vietnam.vn, 2025-02-13: 56% in the localities
		{month(2026, 7), 0.70},
		{lastMonth, 0.76},
	},
	// Dossiers received in a month: about one per hundred people, varying.
	den: func(code string, m time.Time) float64 {
		return population[code] * 10 * (1 + 0.08*jitter("dossiers", code, m.Format("2006-01")))
	},
	spread:     0.12,
	lastReport: map[string]time.Time{"Lai Chau": month(2026, 7)},
}

var eHealthRecords = provinceRatio{
	kpi: "e_health_record_coverage",
	national: path{
		{start2024, 0.12},
		{month(2024, 10), 32_000_000 / (totalPopulation(formerCodes(nil)) * 1000)}, // Hanoi Times, 2024-10-05: 32 million records
		{month(2025, 12), 0.62},
		{month(2026, 7), 0.74},
		{lastMonth, 0.86},
	},
	den:        func(code string, _ time.Time) float64 { return population[code] * 1000 },
	spread:     0.15,
	leaders:    map[string]float64{"Ha Noi": 1.25},
	lastReport: map[string]time.Time{"Gia Lai": month(2026, 8)},
}

// primaryPupilsPerThousand puts 7,100,388 primary transcripts in scope
// (vrviet.vn, 2024-08-12).
var primaryPupilsPerThousand = 7_100_388 / totalPopulation(formerCodes(nil))

var digitalSchoolRecords = provinceRatio{
	kpi: "digital_school_records",
	national: path{
		{start2024, 0.35},
		{month(2024, 8), 4_241_906.0 / 7_100_388}, // vrviet.vn: 4,241,906 of 7,100,388 transcripts
		{month(2025, 6), 0.80},
		{lastMonth, 0.92},
	},
	den:    func(code string, _ time.Time) float64 { return population[code] * primaryPupilsPerThousand },
	spread: 0.1,
}

func monthsSince(from, t time.Time) float64 {
	return float64((t.Year()-from.Year())*12 + int(t.Month()) - int(from.Month()))
}

// provinceRow is one province's report on one month.
type provinceRow struct {
	period   time.Time
	code     string // statistics code of the unit reported under
	nameVI   string
	num, den int64
}

// rows draws the KPI for every month: each former province follows the
// national path times its own factor, and the reporting ones are scaled
// together so that their roll-up is the national path. From the merger on,
// former provinces' numerators and denominators are summed into their new
// unit, so that the merged ratios are the true roll-ups.
func (k provinceRatio) rows() []provinceRow {
	type former struct {
		code, nameVI, unit, unitCode, unitVI string
		factor                               float64
	}
	var formers []former
	for _, f := range units.Former() {
		p := unitOf(f)
		if slices.Contains(k.silent, p.Name) {
			continue
		}
		factor, lead := k.leaders[p.Name]
		if !lead {
			factor = (1 + k.spread*jitter(k.kpi, "unit", p.Name)) * (1 + 0.03*jitter(k.kpi, "former", f.Code))
		}
		formers = append(formers, former{f.Code, f.NameVI, p.Name, p.Code, p.NameVI, factor})
	}
	var out []provinceRow
	for _, m := range months(provinceFirst, lastMonth) {
		ratios := make([]float64, len(formers))
		dens := make([]float64, len(formers))
		for i, f := range formers {
			dens[i] = math.Round(k.den(f.code, m))
			ratios[i] = f.factor * k.national.at(m) * (1 + 0.01*jitter(k.kpi, f.code, m.Format("2006-01")))
		}
		calibrate(ratios, dens, k.national.at(m))
		merged := map[string]*provinceRow{}
		for i, f := range formers {
			if last, ok := k.lastReport[f.unit]; ok && m.After(last) {
				continue
			}
			r := provinceRow{m, f.code, f.nameVI, int64(math.Round(ratios[i] * dens[i])), int64(dens[i])}
			if m.Before(mergerMonth) {
				out = append(out, r)
				continue
			}
			if u, ok := merged[f.unitCode]; ok {
				u.num += r.num
				u.den += r.den
			} else {
				merged[f.unitCode] = &provinceRow{m, f.unitCode, f.unitVI, r.num, r.den}
			}
		}
		codes := make([]string, 0, len(merged))
		for c := range merged {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			out = append(out, *merged[c])
		}
	}
	return out
}

// calibrate scales the ratios below 1 so that their roll-up is target,
// keeping every ratio within 0..1.
func calibrate(ratios, dens []float64, target float64) {
	for range 20 {
		var num, den, free float64
		for i, r := range ratios {
			r = math.Min(math.Max(r, 0), 1)
			ratios[i] = r
			num += r * dens[i]
			den += dens[i]
			if r < 1 {
				free += r * dens[i]
			}
		}
		if free == 0 || math.Abs(num/den-target) < 1e-9 {
			return
		}
		scale := (target*den - (num - free)) / free
		for i, r := range ratios {
			if r < 1 {
				ratios[i] = r * scale
			}
		}
	}
}

// spelling is one of the ways reports write a unit's name, fixed per file,
// unit and year (whoever compiles a report keeps a habit). Thừa Thiên Huế became the city of Huế on 2025-01-01.
func spelling(file, code, nameVI string, m time.Time) string {
	if code == "46" && m.Before(month(2025, 1)) {
		nameVI = "Tỉnh Thừa Thiên Huế"
	}
	bare := strings.TrimPrefix(strings.TrimPrefix(nameVI, "Tỉnh "), "Thành phố ")
	variants := []string{nameVI, bare}
	if strings.HasPrefix(nameVI, "Thành phố ") {
		variants = append(variants, "TP. "+bare, "TP "+bare)
	}
	if bare == "Hồ Chí Minh" {
		variants = append(variants, "TP.HCM")
	}
	return variants[pick(len(variants), file, code, fmt.Sprint(m.Year()))]
}

// periodVI writes a month as Vietnamese reports label it.
func periodVI(m time.Time) string { return fmt.Sprintf("Tháng %d/%d", m.Month(), m.Year()) }

// socialBenefits is the social-protection payments report as the Ministry
// of Health's workbook: two title rows, a header over two rows with the
// payment columns grouped under a merged cell, a numbered list and a totals
// row per month. Provinces type some figures as text ("1.058.569") and some
// as numbers, and the period as text ("Tháng 10/2025") before the merger and
// as a date cell after it.
func socialBenefits(*catalogue.Catalogue) ([]byte, error) {
	const file, sheet = "social", "Báo cáo"
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	// Fixed document properties: the bytes depend on the data only.
	err := f.SetDocProps(&excelize.DocProperties{
		Title:          "Chi trả an sinh xã hội qua tài khoản",
		Creator:        "Bộ Y tế",
		LastModifiedBy: "Bộ Y tế",
		Created:        "2026-11-16T08:00:00Z",
		Modified:       "2026-11-16T08:00:00Z",
		Language:       "vi-VN",
	})
	if err != nil {
		return nil, err
	}
	var numberStyle, percentStyle, monthStyle, headerStyle int
	for _, s := range []struct {
		id    *int
		style excelize.Style
	}{
		{&numberStyle, excelize.Style{NumFmt: 3}},                        // #,##0
		{&percentStyle, excelize.Style{NumFmt: 10}},                      // 0.00%
		{&monthStyle, excelize.Style{CustomNumFmt: ptr("mm/yyyy")}},      // a date shown as 10/2025
		{&headerStyle, excelize.Style{Font: &excelize.Font{Bold: true}}}, // titles and header
	} {
		if *s.id, err = f.NewStyle(&s.style); err != nil {
			return nil, err
		}
	}
	header := []struct {
		cell, text string
	}{
		{"A1", "BÁO CÁO KẾT QUẢ CHI TRẢ CHÍNH SÁCH AN SINH XÃ HỘI QUA TÀI KHOẢN"},
		{"A2", "(Số liệu các tỉnh, thành phố gửi Bộ Y tế hằng tháng)"},
		{"A3", "STT"}, {"B3", "Tỉnh/TP"}, {"C3", "Kỳ báo cáo"}, {"D3", "Chi trả an sinh xã hội"},
		{"D4", "Số người hưởng"}, {"E4", "Số người nhận qua tài khoản"}, {"F4", "Tỷ lệ"},
	}
	for _, h := range header {
		if err := f.SetCellValue(sheet, h.cell, h.text); err != nil {
			return nil, err
		}
	}
	for _, r := range [][2]string{{"A1", "F1"}, {"A2", "F2"}, {"A3", "A4"}, {"B3", "B4"}, {"C3", "C4"}, {"D3", "F3"}} {
		if err := f.MergeCell(sheet, r[0], r[1]); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", "F4", headerStyle); err != nil {
		return nil, err
	}
	row := 5
	// put writes one row: figures as number cells, or as Vietnamese text
	// when the province types them so.
	put := func(n any, province string, m time.Time, num, den int64, asText bool) error {
		values := []any{n, province, periodVI(m), den, num, float64(num) / float64(den)}
		styled := map[string]int{"D": numberStyle, "E": numberStyle, "F": percentStyle}
		if asText {
			values[3], values[4], values[5] = vnInt(den), vnInt(num), vnPercent(num, den)
			styled = map[string]int{}
		}
		if !m.Before(mergerMonth) {
			values[2] = m.AddDate(0, 1, -1)
			styled["C"] = monthStyle
		}
		cell, err := excelize.CoordinatesToCellName(1, row)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &values); err != nil {
			return err
		}
		for col, s := range styled {
			ref := fmt.Sprintf("%s%d", col, row)
			if err := f.SetCellStyle(sheet, ref, ref, s); err != nil {
				return err
			}
		}
		row++
		return nil
	}
	rows := socialBenefit.rows()
	for i := 0; i < len(rows); {
		m := rows[i].period
		var num, den int64
		for n := 1; i < len(rows) && rows[i].period.Equal(m); i, n = i+1, n+1 {
			r := rows[i]
			asText := pick(3, file, "text", r.code, fmt.Sprint(m.Year())) == 0
			if err := put(n, spelling(file, r.code, r.nameVI, m), m, r.num, r.den, asText); err != nil {
				return nil, err
			}
			num += r.num
			den += r.den
		}
		if err := put("", "Tổng cộng", m, num, den, false); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

// eHealthRecordsDatabase is the Ministry of Health's e-health record
// database as the SQL script that builds it: residents with a record and
// the population, per province (under the unit of the time) and month.
func eHealthRecordsDatabase(*catalogue.Catalogue) ([]byte, error) {
	var b strings.Builder
	b.WriteString("-- Hồ sơ sức khỏe điện tử: người dân có hồ sơ và dân số, theo tỉnh và tháng.\n")
	b.WriteString("CREATE TABLE ho_so_suc_khoe_dien_tu (\n  ma_tinh TEXT NOT NULL,\n  ten_tinh TEXT NOT NULL,\n  thang TEXT NOT NULL,\n" +
		"  so_nguoi_co_ho_so INTEGER NOT NULL,\n  dan_so INTEGER NOT NULL,\n  PRIMARY KEY (ma_tinh, thang)\n);\n")
	rows := eHealthRecords.rows()
	for i := 0; i < len(rows); {
		m := rows[i].period
		var values []string
		for ; i < len(rows) && rows[i].period.Equal(m); i++ {
			r := rows[i]
			values = append(values, fmt.Sprintf("('%s', '%s', '%s', %d, %d)", r.code, r.nameVI, m.Format("2006-01"), r.num, r.den))
		}
		fmt.Fprintf(&b, "INSERT INTO ho_so_suc_khoe_dien_tu VALUES\n%s;\n", strings.Join(values, ",\n"))
	}
	return []byte(b.String()), nil
}

// provincesMonthlyReport is the provinces' monthly Project 06 report as the
// working group compiles it: comma-separated with Vietnamese numbers (so the
// percentages are quoted), months as 10/2025, the KPI by its Vietnamese name,
// a national row per KPI and month.
func provincesMonthlyReport(cat *catalogue.Catalogue) ([]byte, error) {
	const file = "report"
	kpis := []provinceRatio{fullProcessOnline, onlineDossiers, digitalSchoolRecords}
	byMonth := map[time.Time][][]provinceRow{}
	for i, k := range kpis {
		for _, r := range k.rows() {
			if byMonth[r.period] == nil {
				byMonth[r.period] = make([][]provinceRow, len(kpis))
			}
			byMonth[r.period][i] = append(byMonth[r.period][i], r)
		}
	}
	t := newTable(false, "Tỉnh/TP", "Kỳ báo cáo", "Ngày gửi", "Chỉ tiêu", "Tử số", "Mẫu số", "Tỷ lệ")
	for _, m := range months(provinceFirst, lastMonth) {
		period := fmt.Sprintf("%02d/%d", m.Month(), m.Year())
		for i, k := range kpis {
			def, ok := cat.KPI(k.kpi)
			if !ok {
				return nil, fmt.Errorf("kpi %q is not in the catalogue", k.kpi)
			}
			var num, den int64
			for _, r := range byMonth[m][i] {
				t.add(spelling(file, r.code, r.nameVI, m), period, sentOn(file, r.code, m), def.NameVI, vnInt(r.num), vnInt(r.den), vnPercent(r.num, r.den))
				num += r.num
				den += r.den
			}
			t.add("Toàn quốc", period, sentOn(file, "national", m), def.NameVI, vnInt(num), vnInt(den), vnPercent(num, den))
		}
	}
	return t.bytes()
}

// sentOn is the day a unit sent its monthly report on month m, as
// dd/mm/yyyy: one report in eight comes after the 15th, the due day, up to
// ten days late; the others between the 3rd and the 15th. Illustrative:
// no dates of sending have been published.
func sentOn(file, code string, m time.Time) string {
	day := 3 + pick(13, file, "sent", code, m.Format("2006-01"))
	if pick(8, file, "late", code, m.Format("2006-01")) == 0 {
		day = 16 + pick(10, file, "days late", code, m.Format("2006-01"))
	}
	return m.AddDate(0, 1, day-1).Format("02/01/2006")
}

// provincialDTI is the Ministry of Science and Technology's quarterly
// digital-transformation score as each province sends it: a workbook of its
// own, named by the province, with the quarters across under the year
// (a header over two rows, the years in merged cells) and the plan beside
// them. Reported under the 34 units only, since a score cannot be summed
// across merged provinces.
func provincialDTI(*catalogue.Catalogue) (map[string][]byte, error) {
	var quarters []time.Time
	for q := firstQuarter; !q.After(lastQuarter); q = q.AddDate(0, 3, 0) {
		quarters = append(quarters, q)
	}
	out := map[string][]byte{}
	for _, p := range provinces() {
		base := 0.6 + 0.08*jitter("dti base", p.Code)
		growth := 0.037 + 0.02*jitter("dti growth", p.Code)
		scores := make([]any, len(quarters))
		for i, q := range quarters {
			scores[i] = math.Round(math.Min(base+growth*float64(i)+0.005*jitter("dti", p.Code, q.Format("2006-01")), 1)*1000) / 1000
		}
		data, err := dtiWorkbook(p, quarters, scores)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out["CDS-"+strings.ReplaceAll(p.Name, " ", "-")+".xlsx"] = data
	}
	return out, nil
}

// dtiWorkbook is one province's DTI workbook: the authority and title rows,
// the header in rows 5 and 6, the score in row 7, a note under it.
func dtiWorkbook(p units.Unit, quarters []time.Time, scores []any) ([]byte, error) {
	const sheet = "Biểu 01"
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	err := f.SetDocProps(&excelize.DocProperties{
		Title: "Chỉ số chuyển đổi số cấp tỉnh", Creator: "UBND " + p.NameVI, LastModifiedBy: "UBND " + p.NameVI,
		Created: "2026-11-16T08:00:00Z", Modified: "2026-11-16T08:00:00Z", Language: "vi-VN",
	})
	if err != nil {
		return nil, err
	}
	cell := func(col, row int) string {
		c, _ := excelize.CoordinatesToCellName(col, row)
		return c
	}
	set := func(col, row int, v any) {
		if err == nil {
			err = f.SetCellValue(sheet, cell(col, row), v)
		}
	}
	merge := func(c1, r1, c2, r2 int) {
		if err == nil {
			err = f.MergeCell(sheet, cell(c1, r1), cell(c2, r2))
		}
	}
	set(1, 1, "ỦY BAN NHÂN DÂN")
	set(1, 2, strings.ToUpper(p.NameVI))
	set(1, 3, "KẾT QUẢ CHỈ SỐ ĐÁNH GIÁ CHUYỂN ĐỔI SỐ CẤP TỈNH (DTI)")
	set(1, 5, "STT")
	set(2, 5, "Chỉ tiêu")
	merge(1, 5, 1, 6)
	merge(2, 5, 2, 6)
	col := 3
	for i, q := range quarters {
		if i == 0 || q.Year() != quarters[i-1].Year() {
			set(col, 5, fmt.Sprintf("Năm %d", q.Year()))
			last := col
			for j := i + 1; j < len(quarters) && quarters[j].Year() == q.Year(); j++ {
				last++
			}
			merge(col, 5, last, 5)
		}
		set(col, 6, "Quý "+[]string{"I", "II", "III", "IV"}[(q.Month()-1)/3])
		col++
	}
	set(col, 5, fmt.Sprintf("Kế hoạch năm %d", lastQuarter.Year()))
	merge(col, 5, col, 6)
	set(1, 7, 1)
	set(2, 7, "Chỉ số chuyển đổi số cấp tỉnh")
	for i, s := range scores {
		set(3+i, 7, s)
	}
	set(col, 7, 0.8)
	set(1, 8, "Ghi chú: điểm theo thang 0-1, do Bộ Khoa học và Công nghệ đánh giá.")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// roadmapTask is one task of the Project 06 roadmap.
type roadmapTask struct {
	owner     string
	due, done time.Time // done is zero while the task is open
	status    string    // as the roadmap writes it
}

// Task statuses as the working group's roadmap writes them.
const (
	taskDone       = "Đã hoàn thành"
	taskInProgress = "Đang thực hiện"
	taskNotStarted = "Chưa thực hiện"
	taskCancelled  = "Dừng thực hiện"
)

// taskTopics are the kinds of task each owner is in charge of.
var taskTopics = map[string][]string{
	"mps":               {"Làm sạch dữ liệu dân cư", "Mở rộng tiện ích trên VNeID", "Kết nối CSDL quốc gia về dân cư với các CSDL chuyên ngành"},
	"government_office": {"Tích hợp dịch vụ công thiết yếu lên Cổng Dịch vụ công quốc gia", "Tái cấu trúc quy trình thủ tục hành chính", "Theo dõi, đôn đốc nhiệm vụ của bộ, ngành"},
	"moh":               {"Sổ sức khỏe điện tử trên VNeID", "Chi trả an sinh xã hội qua tài khoản", "Liên thông giấy chứng sinh, giấy báo tử"},
	"moj":               {"Cấp Phiếu lý lịch tư pháp qua VNeID", "Số hóa sổ hộ tịch", "Sửa đổi văn bản quy phạm pháp luật vướng mắc"},
	"moet":              {"Học bạ số", "Văn bằng, chứng chỉ điện tử", "Kết nối CSDL ngành giáo dục với CSDL dân cư"},
	"sbv":               {"Xác thực sinh trắc học khách hàng qua CCCD gắn chip", "Thanh toán không dùng tiền mặt dịch vụ công", "Làm sạch dữ liệu khách hàng"},
	"most":              {"Chữ ký số cá nhân", "Hạ tầng dữ liệu dùng chung", "Định danh thuê bao di động"},
	"mof":               {"Kết nối CSDL thuế với CSDL dân cư", "Hóa đơn điện tử", "Đăng ký doanh nghiệp trực tuyến"},
	"moha":              {"CSDL cán bộ, công chức, viên chức", "Số hóa hồ sơ lưu trữ", "Chi trả chế độ người có công"},
	"mae":               {"CSDL đất đai", "Cấp giấy chứng nhận quyền sử dụng đất trực tuyến", "Kết nối dữ liệu môi trường"},
	"moit":              {"Thương mại điện tử gắn định danh", "Cấp phép xuất nhập khẩu trực tuyến", "Kết nối CSDL quản lý thị trường"},
	"moc":               {"Giấy phép lái xe trên VNeID", "Đăng ký xe trực tuyến", "Cấp phép xây dựng trực tuyến"},
}

// roadmapTasks is the Project 06 roadmap as the working group tracks it:
// the 61 tasks due in 2024, the tasks of 2025 and a few of 2026, the
// ministry in charge as its reports write it. The tasks behind schedule
// follow the overdue counts of the working group's national file: at the
// Prime Minister's review of 2025-07-20, 75 across 9 ministries; since then
// most were done late, and those of October 2026 are still open.
func roadmapTasks(cat *catalogue.Catalogue) ([]byte, error) {
	const tasks2024 = 61
	review := day(2025, 7, 20)
	monthEnd := func(m time.Time) time.Time { return m.AddDate(0, 1, -1) }
	openStatus := func(key ...string) string { return []string{taskInProgress, taskNotStarted}[pick(2, key...)] }
	var tasks []roadmapTask
	for _, o := range overdueTasks {
		var p path
		for i, at := range overdueAt {
			p = append(p, point{at, o.counts[i]})
		}
		atReview, stillOpen := int(o.counts[2]), int(o.counts[len(o.counts)-1])
		for j := 1; j <= atReview; j++ {
			// Due at the end of the month the ministry's count reached j.
			due := monthEnd(month(2025, 6))
			for m := start2024; m.Before(month(2025, 6)); m = m.AddDate(0, 1, 0) {
				if math.Round(p.at(monthEnd(m))) >= float64(j) {
					due = monthEnd(m)
					break
				}
			}
			t := roadmapTask{owner: o.ministry, due: due, status: openStatus(o.ministry, fmt.Sprint(j))}
			// Done on the day the count fell below j, the earliest due first.
			if j <= atReview-stillOpen {
				for d := review.AddDate(0, 0, 1); !d.After(monthEnd(lastMonth)); d = d.AddDate(0, 0, 1) {
					if p.at(d) <= float64(atReview-j) {
						t.done, t.status = d, taskDone
						break
					}
				}
			}
			tasks = append(tasks, t)
		}
	}
	owners := slices.Sorted(maps.Keys(taskTopics))
	onTime := func(n int, from time.Time, months int, key string) {
		for i := range n {
			k := fmt.Sprint(key, i)
			due := monthEnd(from.AddDate(0, pick(months, "due", k), 0))
			tasks = append(tasks, roadmapTask{owner: owners[pick(len(owners), "owner", k)], due: due,
				done: due.AddDate(0, 0, -3-pick(40, "done", k)), status: taskDone})
		}
	}
	due2024 := 0
	for _, t := range tasks {
		if t.due.Year() == 2024 {
			due2024++
		}
	}
	onTime(tasks2024-due2024, start2024, 12, "2024")
	onTime(10, month(2025, 1), 6, "2025 H1")
	onTime(24, month(2025, 7), 6, "2025 H2")
	// A few of the second half of 2025 were done late, within the month.
	for i := len(tasks) - 5; i < len(tasks); i++ {
		tasks[i].done = tasks[i].due.AddDate(0, 0, 3+pick(20, "late", fmt.Sprint(i)))
	}
	tasks = append(tasks, roadmapTask{owner: "most", due: day(2025, 9, 30), status: taskCancelled})
	for i := range 6 {
		k := fmt.Sprint("2026 ", i)
		tasks = append(tasks, roadmapTask{owner: owners[pick(len(owners), "owner", k)], due: day(2026, 12, 31), status: openStatus(k)})
	}
	slices.SortStableFunc(tasks, func(a, b roadmapTask) int {
		if c := a.due.Compare(b.due); c != 0 {
			return c
		}
		return strings.Compare(a.owner, b.owner)
	})
	t := newTable(false, "STT", "Mã nhiệm vụ", "Nội dung nhiệm vụ", "Đơn vị chủ trì", "Thời hạn", "Tình trạng", "Ngày hoàn thành")
	perYear, perOwner := map[int]int{}, map[string]int{}
	for i, task := range tasks {
		perYear[task.due.Year()]++
		topics := taskTopics[task.owner]
		n := perOwner[task.owner]
		perOwner[task.owner]++
		title := topics[n%len(topics)]
		if n >= len(topics) {
			title += fmt.Sprintf(" (giai đoạn %d)", n/len(topics)+1)
		}
		owner, err := ministrySpelling(cat, task.owner, task.due)
		if err != nil {
			return nil, err
		}
		done := ""
		if !task.done.IsZero() {
			done = task.done.Format("02/01/2006")
		}
		t.add(fmt.Sprint(i+1), fmt.Sprintf("NV-%d-%02d", task.due.Year(), perYear[task.due.Year()]), title, owner, task.due.Format("02/01/2006"), task.status, done)
	}
	return t.bytes()
}
