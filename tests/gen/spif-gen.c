/* spif-gen.c - realistic SYNTHETIC specific personal information files
 * (給与支払報告書-like CSV/TSV/NDJSON) for tests and benchmarks.
 *
 * Every Individual Number it writes is made up: an 11-digit base taken from
 * a seed-keyed bijective permutation of [0, 10^11) (an alternating Feistel
 * network) applied to a counter (person * 10 + role), plus its check digit.
 * Distinct counters give distinct numbers, so the distinct-number count it
 * reports is exact without a hash set.
 * Because the check digit is all there is, a made-up number may still be
 * somebody's real one: keep generated files on test machines.
 *
 * Speed: every fixed string is converted to the output encoding once at
 * start (and checked to round-trip); rows are then assembled with memcpy
 * into a large buffer written with write(2).  No per-field iconv.
 *
 * See tests/gen/README and --help for the options and the exact counting
 * rule. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "mynumber.h"

#define PROG "spif-gen"

/* ------------------------------------------------------------------ */
/* Data tables (UTF-8).  Only characters that round-trip through CP932 as
 * Windows writes it; EUC-JP gets the substitutions in EUC_SUBST[].        */

static const char *const SURNAME[][2] = {
	{"佐藤", "サトウ"}, {"鈴木", "スズキ"}, {"高橋", "タカハシ"}, {"田中", "タナカ"},
	{"伊藤", "イトウ"}, {"渡辺", "ワタナベ"}, {"山本", "ヤマモト"}, {"中村", "ナカムラ"},
	{"小林", "コバヤシ"}, {"加藤", "カトウ"}, {"吉田", "ヨシダ"}, {"山田", "ヤマダ"},
	{"佐々木", "ササキ"}, {"山口", "ヤマグチ"}, {"松本", "マツモト"}, {"井上", "イノウエ"},
	{"木村", "キムラ"}, {"林", "ハヤシ"}, {"斎藤", "サイトウ"}, {"清水", "シミズ"},
	{"山崎", "ヤマザキ"}, {"森", "モリ"}, {"池田", "イケダ"}, {"橋本", "ハシモト"},
	{"阿部", "アベ"}, {"石川", "イシカワ"}, {"山下", "ヤマシタ"}, {"中島", "ナカジマ"},
	{"石井", "イシイ"}, {"小川", "オガワ"}, {"前田", "マエダ"}, {"岡田", "オカダ"},
	{"長谷川", "ハセガワ"}, {"藤田", "フジタ"}, {"後藤", "ゴトウ"}, {"近藤", "コンドウ"},
	{"村上", "ムラカミ"}, {"遠藤", "エンドウ"}, {"青木", "アオキ"}, {"坂本", "サカモト"},
	{"斉藤", "サイトウ"}, {"福田", "フクダ"}, {"太田", "オオタ"}, {"西村", "ニシムラ"},
	{"藤井", "フジイ"}, {"金子", "カネコ"}, {"岡本", "オカモト"}, {"藤原", "フジワラ"},
	{"中野", "ナカノ"}, {"三浦", "ミウラ"}, {"原田", "ハラダ"}, {"中川", "ナカガワ"},
	{"松田", "マツダ"}, {"竹内", "タケウチ"}, {"小野", "オノ"}, {"田村", "タムラ"},
	{"中山", "ナカヤマ"}, {"和田", "ワダ"}, {"石田", "イシダ"}, {"森田", "モリタ"},
	{"上田", "ウエダ"}, {"原", "ハラ"}, {"内田", "ウチダ"}, {"柴田", "シバタ"},
	{"酒井", "サカイ"}, {"宮崎", "ミヤザキ"}, {"横山", "ヨコヤマ"}, {"高木", "タカギ"},
	{"安藤", "アンドウ"}, {"宮本", "ミヤモト"}, {"大野", "オオノ"}, {"小島", "コジマ"},
	{"谷口", "タニグチ"}, {"今井", "イマイ"}, {"工藤", "クドウ"}, {"高田", "タカダ"},
	{"増田", "マスダ"}, {"丸山", "マルヤマ"}, {"杉山", "スギヤマ"}, {"村田", "ムラタ"},
	{"大塚", "オオツカ"}, {"新井", "アライ"}, {"小山", "コヤマ"}, {"平野", "ヒラノ"},
	{"藤本", "フジモト"}, {"河野", "コウノ"}, {"上野", "ウエノ"}, {"野口", "ノグチ"},
	{"武田", "タケダ"}, {"松井", "マツイ"}, {"千葉", "チバ"}, {"岩崎", "イワサキ"},
	{"菅原", "スガワラ"}, {"木下", "キノシタ"}, {"久保", "クボ"}, {"佐野", "サノ"},
	{"野村", "ノムラ"}, {"松尾", "マツオ"}, {"菊地", "キクチ"}, {"杉本", "スギモト"},
	{"市川", "イチカワ"}, {"古川", "フルカワ"}, {"大西", "オオニシ"}, {"島田", "シマダ"},
	{"水野", "ミズノ"}, {"桜井", "サクライ"}, {"高野", "タカノ"}, {"渡部", "ワタナベ"},
	{"吉川", "ヨシカワ"}, {"山内", "ヤマウチ"}, {"西田", "ニシダ"}, {"飯田", "イイダ"},
	{"菊池", "キクチ"}, {"西川", "ニシカワ"}, {"小松", "コマツ"}, {"北村", "キタムラ"},
	{"安田", "ヤスダ"}, {"五十嵐", "イガラシ"}, {"川口", "カワグチ"}, {"平田", "ヒラタ"},
	{"関", "セキ"}, {"中田", "ナカタ"}, {"久保田", "クボタ"}, {"服部", "ハットリ"},
	{"東", "ヒガシ"}, {"岩田", "イワタ"}, {"土屋", "ツチヤ"}, {"川崎", "カワサキ"},
	{"福島", "フクシマ"}, {"本田", "ホンダ"}, {"辻", "ツジ"}, {"樋口", "ヒグチ"},
	{"秋山", "アキヤマ"}, {"田口", "タグチ"}, {"永井", "ナガイ"}, {"山中", "ヤマナカ"},
	{"中西", "ナカニシ"}, {"吉村", "ヨシムラ"}, {"川上", "カワカミ"}, {"大橋", "オオハシ"},
	{"石原", "イシハラ"}, {"松岡", "マツオカ"}, {"浜田", "ハマダ"}, {"馬場", "ババ"},
	{"森本", "モリモト"}, {"矢野", "ヤノ"}, {"浅野", "アサノ"}, {"松下", "マツシタ"},
	{"星野", "ホシノ"}, {"大久保", "オオクボ"}, {"吉岡", "ヨシオカ"}, {"小池", "コイケ"},
	{"野田", "ノダ"}, {"荒木", "アラキ"}, {"大谷", "オオタニ"}, {"内藤", "ナイトウ"},
	{"松浦", "マツウラ"}, {"熊谷", "クマガイ"}, {"黒田", "クロダ"}, {"尾崎", "オザキ"},
	{"永田", "ナガタ"}, {"川村", "カワムラ"}, {"望月", "モチヅキ"}, {"田辺", "タナベ"},
	{"松村", "マツムラ"}, {"荒井", "アライ"}, {"濱田", "ハマダ"}, {"齊藤", "サイトウ"},
	{"宮﨑", "ミヤザキ"}, {"澤田", "サワダ"}, {"廣瀬", "ヒロセ"}, {"邊見", "ヘンミ"},
};
/* Variant-kanji surnames (髙 and 﨑 are CP932 IBM/NEC extensions; 齋 邉 are
 * ordinary JIS X 0208).  Drawn with a higher weight than their real share
 * so that every small file has some. */
static const char *const SURNAME_VAR[][2] = {
	{"髙橋", "タカハシ"}, {"山﨑", "ヤマザキ"}, {"齋藤", "サイトウ"}, {"渡邉", "ワタナベ"},
	{"髙田", "タカダ"}, {"髙木", "タカギ"}, {"岩﨑", "イワサキ"}, {"渡邊", "ワタナベ"},
	{"齋木", "サイキ"}, {"﨑山", "サキヤマ"},
};
/* Surnames written with one user-area 外字 (PUA) in legacy systems: the
 * glyph sits between pre and post.  (A 2-dot 辻, 𠮷, a variant 邊/邉 ...) */
static const char *const GAIJI_SURNAME[][3] = {
	{"", "本", "ツジモト"}, {"", "田", "ヨシダ"}, {"渡", "", "ワタナベ"}, {"", "藤", "サイトウ"},
	{"", "野", "ヨシノ"},   {"高", "", "タカシマ"}, {"", "村", "ツジムラ"}, {"", "川", "ヨシカワ"},
};

static const char *const GIVEN_M[][2] = {
	{"太郎", "タロウ"}, {"一郎", "イチロウ"}, {"健", "ケン"}, {"翔太", "ショウタ"},
	{"大輔", "ダイスケ"}, {"拓也", "タクヤ"}, {"和也", "カズヤ"}, {"浩", "ヒロシ"},
	{"誠", "マコト"}, {"隆", "タカシ"}, {"直樹", "ナオキ"}, {"健太", "ケンタ"},
	{"翔", "ショウ"}, {"蓮", "レン"}, {"大翔", "ヒロト"}, {"悠真", "ユウマ"},
	{"陽翔", "ハルト"}, {"湊", "ミナト"}, {"清", "キヨシ"}, {"茂", "シゲル"},
	{"博", "ヒロシ"}, {"正", "タダシ"}, {"勝", "マサル"}, {"明", "アキラ"},
	{"修", "オサム"}, {"進", "ススム"}, {"聡", "サトシ"}, {"亮", "リョウ"},
	{"学", "マナブ"}, {"剛", "ツヨシ"}, {"達也", "タツヤ"}, {"健一", "ケンイチ"},
	{"雄一", "ユウイチ"}, {"秀樹", "ヒデキ"}, {"洋平", "ヨウヘイ"}, {"智也", "トモヤ"},
	{"優斗", "ユウト"}, {"颯太", "ソウタ"}, {"樹", "イツキ"}, {"陽太", "ヒナタ"},
	{"康弘", "ヤスヒロ"}, {"義男", "ヨシオ"}, {"幸雄", "ユキオ"}, {"俊介", "シュンスケ"},
};
static const char *const GIVEN_F[][2] = {
	{"花子", "ハナコ"}, {"陽子", "ヨウコ"}, {"恵子", "ケイコ"}, {"幸子", "サチコ"},
	{"和子", "カズコ"}, {"美香", "ミカ"}, {"由美", "ユミ"}, {"裕子", "ユウコ"},
	{"真由美", "マユミ"}, {"愛", "アイ"}, {"彩", "アヤ"}, {"美咲", "ミサキ"},
	{"陽菜", "ヒナ"}, {"結衣", "ユイ"}, {"葵", "アオイ"}, {"凛", "リン"},
	{"結菜", "ユイナ"}, {"芽依", "メイ"}, {"さくら", "サクラ"}, {"優子", "ユウコ"},
	{"直子", "ナオコ"}, {"久美子", "クミコ"}, {"智子", "トモコ"}, {"明美", "アケミ"},
	{"京子", "キョウコ"}, {"洋子", "ヨウコ"}, {"節子", "セツコ"}, {"千代", "チヨ"},
	{"文子", "フミコ"}, {"美穂", "ミホ"}, {"麻衣", "マイ"}, {"舞", "マイ"},
	{"千尋", "チヒロ"}, {"杏", "アン"}, {"紬", "ツムギ"}, {"陽葵", "ヒマリ"},
	{"莉子", "リコ"}, {"美月", "ミヅキ"}, {"七海", "ナナミ"}, {"静香", "シズカ"},
};

static const char *const PREF_CITY[] = {
	"北海道札幌市中央区", "北海道旭川市", "青森県青森市", "岩手県盛岡市", "宮城県仙台市青葉区",
	"秋田県秋田市", "山形県山形市", "福島県郡山市", "茨城県水戸市", "栃木県宇都宮市",
	"群馬県前橋市", "埼玉県さいたま市浦和区", "埼玉県川越市", "千葉県千葉市美浜区", "千葉県船橋市",
	"東京都千代田区", "東京都世田谷区", "東京都八王子市", "東京都練馬区", "神奈川県横浜市港北区",
	"神奈川県川崎市中原区", "神奈川県相模原市南区", "新潟県新潟市中央区", "富山県富山市",
	"石川県金沢市", "福井県福井市", "山梨県甲府市", "長野県松本市", "岐阜県岐阜市",
	"静岡県浜松市中央区", "愛知県名古屋市千種区", "愛知県豊田市", "三重県津市", "滋賀県大津市",
	"京都府京都市左京区", "大阪府大阪市北区", "大阪府堺市堺区", "兵庫県神戸市灘区", "兵庫県姫路市",
	"奈良県奈良市", "和歌山県和歌山市", "鳥取県鳥取市", "島根県松江市", "岡山県岡山市北区",
	"広島県広島市中区", "山口県下関市", "徳島県徳島市", "香川県高松市", "愛媛県松山市",
	"高知県高知市", "福岡県福岡市博多区", "福岡県北九州市小倉北区", "佐賀県佐賀市", "長崎県長崎市",
	"熊本県熊本市中央区", "大分県大分市", "宮崎県宮崎市", "鹿児島県鹿児島市", "沖縄県那覇市",
};
static const char *const TOWN[] = {
	"本町", "中央", "緑町", "旭町", "栄町", "若葉", "桜台", "東町", "西町", "南町", "北町",
	"新町", "大手町", "幸町", "寿町", "宮前", "八幡", "東雲", "青葉台", "富士見", "梅ケ丘",
	"松が丘", "日の出町", "錦町", "末広町", "元町", "港町", "住吉", "春日", "天神",
};
static const char *const BUILDING[] = {
	"コーポ山田", "メゾン桜", "グランドハイツ", "サンシャインマンション", "パークハイム",
	"レジデンス中央", "ハイツ緑", "シティハウス", "ライオンズマンション", "ヴィラ若葉",
};
/* Company name cores: combined with an industry (after a surname) or alone. */
static const char *const INDUSTRY[] = {
	"製作所", "建設", "商事", "工業", "運輸", "電機", "食品", "印刷", "不動産", "設計事務所",
	"薬局", "産業", "興業", "物産", "精機",
};
static const char *const CORE[] = {
	"東日本物流", "ＡＢＣ商事", "みどり食品", "さくら歯科", "アオバ電機", "ひかり通信",
	"中央印刷", "大和運輸", "北星システム", "ミライ技研", "ＳＫＹテック", "あおぞら介護サービス",
	"日本橋フーズ", "瀬戸内マリン", "富士見ソフトウェア", "はなまるケア",
};
static const char *const CORP_PREFIX[] = {
	"㈱", "株式会社", "有限会社", "㈲", "合同会社", "医療法人社団", "社会福祉法人", "一般社団法人",
};
static const char *const CORP_SUFFIX[] = {"株式会社", "㈱", "有限会社"};
static const char *const AREA_CODE[] = {
	"03", "06", "011", "022", "045", "048", "052", "075", "078", "082", "092", "0476", "043", "0466",
};
static const char *const YAKUSHOKU[] = {
	"部長", "課長", "係長", "主任", "代表取締役", "取締役", "パート", "アルバイト", "嘱託",
	"一般", "契約社員", "看護師", "店長",
};
static const char *const SHUBETSU[] = {"給料・賞与", "給料", "給料・手当", "賞与"};
static const char *const ZOKUGARA[] = {
	"長男", "長女", "次男", "次女", "三男", "三女", "父", "母", "義父", "義母",
};
enum { Z_SON1, Z_DAU1, Z_SON2, Z_DAU2, Z_SON3, Z_DAU3, Z_FATHER, Z_MOTHER, Z_FIL, Z_MIL };

static const char *const REMARK[] = {
	"前職分を含む", "年の中途で就職", "年の中途で退職", "前職分の源泉徴収票添付",
	"住所変更あり（年途中で転居）", "乙欄適用期間あり", "扶養控除等申告書未提出", "同居老親等を含む",
	"障害者控除の対象者あり", "賞与のみ支給", "休職期間あり", "育児休業中（令和６年４月～）",
	"海外勤務期間あり", "役員報酬", "日払い給与を含む", "社宅使用料控除後",
	"通勤手当（非課税分）を除く", "基礎控除申告書提出済", "ふるさと納税ワンストップ特例申請あり",
	"住宅借入金等特別控除（１回目）適用", "普通徴収切替希望（退職者）", "給与支払報告書（総括表）別送",
	"特別徴収税額通知書送付先変更【本社経理課】", "介護休業期間あり", "定額減税：控除外額あり",
};
/* Pieces of the generated remarks and texts (REMARK templates). */
enum {
	P_SPACE,     /* U+3000 */
	P_FW_DIGIT0, /* ０..９: P_FW_DIGIT0 + d */
	P_SEP_FWMINUS = P_FW_DIGIT0 + 10, /* － (− in EUC-JP) */
	P_SEP_CHOON,                      /* ー */
	P_CHOME, P_BAN, P_GO, P_BANCHI, P_GOSHITSU,
	P_ERA_M, P_ERA_T, P_ERA_S, P_ERA_H, P_ERA_R,
	P_NEN, P_TSUKI, P_HI, P_GAN,
	P_YES, P_NO,
	P_R_ZENSHOKU, P_R_REIWA6, P_R_TAISHOKU_CLOSE, P_R_JUTAKU, P_R_YEN,
	P_R_FUYO, P_R_OPEN, P_R_CLOSE, P_R_SHUSHOKU, P_R_QUOTE, P_R_QUOTE_TSV, P_R_LB1, P_R_LB2,
	P_R_KOKUMIN, P_R_KOKUMIN2, P_R_ZENSHOKU_PAY, P_R_ZENSHOKU_TAX, P_R_KEIRI,
	P_T_ZENSHOKU_NO, P_T_WO_FUKUMU, P_T_MYNUMBER, P_T_FUYO_NO, P_T_TSUIKI, P_T_KOJIN_COLON,
	P_T_BANGO, P_T_SHOKAI, P_T_HANKAKU, P_T_KAKUNIN, P_T_TSUCHI, P_T_KOJIN, P_T_FUYO, P_T_HONNIN,
	P_NPIECES
};
static const char *const PIECE[P_NPIECES] = {
	[P_SPACE] = "　",
	[P_FW_DIGIT0] = "０", "１", "２", "３", "４", "５", "６", "７", "８", "９",
	[P_SEP_FWMINUS] = "－",
	[P_SEP_CHOON] = "ー",
	[P_CHOME] = "丁目", [P_BAN] = "番", [P_GO] = "号", [P_BANCHI] = "番地", [P_GOSHITSU] = "号室",
	[P_ERA_M] = "明治", [P_ERA_T] = "大正", [P_ERA_S] = "昭和", [P_ERA_H] = "平成", [P_ERA_R] = "令和",
	[P_NEN] = "年", [P_TSUKI] = "月", [P_HI] = "日", [P_GAN] = "元",
	[P_YES] = "有", [P_NO] = "無",
	[P_R_ZENSHOKU] = "前職分を含む（", [P_R_REIWA6] = "　令和６年", [P_R_TAISHOKU_CLOSE] = "月退職）",
	[P_R_JUTAKU] = "住宅借入金等特別控除可能額　", [P_R_YEN] = "円",
	[P_R_FUYO] = "扶養親族：", [P_R_OPEN] = "（", [P_R_CLOSE] = "）",
	[P_R_SHUSHOKU] = "年の中途で就職（R06.",
	[P_R_QUOTE] = "前職の\"源泉徴収票\"添付あり",
	[P_R_QUOTE_TSV] = "前職の「源泉徴収票」添付あり",
	[P_R_LB1] = "前職分を含む", [P_R_LB2] = "住所変更あり（転居）",
	[P_R_KOKUMIN] = "社会保険料等の金額に国民年金保険料", [P_R_KOKUMIN2] = "円を含む",
	[P_R_ZENSHOKU_PAY] = "前職支払金額 ", [P_R_ZENSHOKU_TAX] = "円, 源泉徴収税額 ",
	[P_R_KEIRI] = "特別徴収税額通知書送付先変更, 本社経理課",
	[P_T_ZENSHOKU_NO] = "前職分個人番号", [P_T_WO_FUKUMU] = "を含む",
	[P_T_MYNUMBER] = "マイナンバー：", [P_T_FUYO_NO] = "の個人番号 ", [P_T_TSUIKI] = " を追記",
	[P_T_KOJIN_COLON] = "個人番号:", [P_T_BANGO] = "番号", [P_T_SHOKAI] = "にて照会済",
	[P_T_HANKAKU] = "ﾏｲﾅﾝﾊﾞｰ ", [P_T_KAKUNIN] = "本人確認済み, 個人番号 ",
	[P_T_TSUCHI] = " (通知カード)", [P_T_KOJIN] = "個人番号", [P_T_FUYO] = "扶養親族",
	[P_T_HONNIN] = "本人",
};

/* EUC-JP (JIS X 0208) lacks these; written as the ordinary form instead. */
static const char *const EUC_SUBST[][2] = {
	{"髙", "高"}, {"﨑", "崎"}, {"㈱", "（株）"}, {"㈲", "（有）"}, {"－", "−"}, {"～", "〜"},
};

/* ------------------------------------------------------------------ */
/* Columns */

enum col {
	C_SHURUI, C_SEIRI1, C_HONSHITEN, C_PAYER_ADDR, C_PAYER_NAME, C_PAYER_TEL, C_SEIRI2,
	C_TEISHUTSU_ADDR, C_TEISHUTSU_NAME, C_TEISEI, C_NENBUN, C_ADDR, C_KOKUGAI, C_NAME, C_KANA,
	C_YAKU, C_SHUBETSU, C_PAY, C_MIHARAI, C_KYUYO_SHOTOKU, C_KOJO_TOTAL, C_GENSEN, C_MICHOSHU,
	C_SPOUSE_UMU, C_SPOUSE_ROJIN, C_SPOUSE_KOJO, C_FUYO_TOKUTEI, C_FUYO_ROJIN, C_FUYO_DOKYO,
	C_FUYO_OTHER, C_U16_COUNT, C_SHOGAI_TOKU, C_SHOGAI_OTHER, C_HIKYOJU, C_SHAKAI, C_SHOKIBO,
	C_SEIMEI_KOJO, C_JISHIN_KOJO, C_JUTAKU_KOJO, C_SEIMEI_NEW, C_SEIMEI_OLD, C_KAIGO, C_NENKIN_NEW,
	C_NENKIN_OLD, C_JUTAKU_N, C_JUTAKU_KANO, C_KYOJU_DATE, C_JUTAKU_ZAN, C_SPOUSE_INCOME,
	C_KOKUMIN, C_KISO, C_CHOSEI, C_HITORIOYA, C_KAFU, C_HON_SHOGAI_TOKU, C_HON_SHOGAI_OTHER,
	C_KINRO, C_MISEINEN, C_OTSU, C_GAIKOKU, C_CHUTO_KBN, C_CHUTO_DATE,
	C_SP_NAME, C_SP_KANA, C_SP_NUM,
	C_D1_NAME, C_D1_KANA, C_D1_REL, C_D1_NUM, C_D2_NAME, C_D2_KANA, C_D2_REL, C_D2_NUM,
	C_D3_NAME, C_D3_KANA, C_D3_REL, C_D3_NUM, C_D4_NAME, C_D4_KANA, C_D4_REL, C_D4_NUM,
	C_U1_NAME, C_U1_NUM, C_U2_NAME, C_U2_NUM, C_U3_NAME, C_U3_NUM,
	C_BIRTH_CODE, C_BIRTH_JIS, C_NUM, C_PAYER_NUM, C_JUKYU_NO, C_ATENA, C_TEKIYO,
	C_KIFU_TOKUREI, C_KIFU_OTHER, C_GEN_IN, C_GENFUSOKU_IN, C_GEN_CALC, C_GENFUSOKU_CALC,
	C_GEN_NINZU, C_SHINRIN, C_SASHIHIKI, C_SHI_GEN, C_KEN_GEN, C_MARKER,
	C_BIKO, /* --corpus only */
};

/* Column flags: TEXT values may hold characters that need quoting/escaping
 * (checked per value).  Only 摘要欄 does: every other value is built from
 * table strings that init_tables() checks hold none of , " \\ TAB CR LF. */
#define F_TEXT 1u

struct coldef {
	enum col id;
	const char *name;
	unsigned flags;
};

static const struct coldef WIDE[] = {
	{C_SHURUI, "法定資料の種類", 0},
	{C_SEIRI1, "整理番号1", 0},
	{C_HONSHITEN, "本支店等区分番号", 0},
	{C_PAYER_ADDR, "提出義務者の住所(居所)又は所在地", 0},
	{C_PAYER_NAME, "提出義務者の氏名又は名称", 0},
	{C_PAYER_TEL, "提出義務者の電話番号", 0},
	{C_SEIRI2, "整理番号2", 0},
	{C_TEISHUTSU_ADDR, "提出者の住所(居所)又は所在地", 0},
	{C_TEISHUTSU_NAME, "提出者の氏名又は名称", 0},
	{C_TEISEI, "訂正表示", 0},
	{C_NENBUN, "年分", 0},
	{C_ADDR, "受給者の住所又は居所", 0},
	{C_KOKUGAI, "国外住所表示", 0},
	{C_NAME, "受給者の氏名", 0},
	{C_KANA, "フリガナ", 0},
	{C_YAKU, "役職名", 0},
	{C_SHUBETSU, "種別", 0},
	{C_PAY, "支払金額", 0},
	{C_MIHARAI, "未払金額", 0},
	{C_KYUYO_SHOTOKU, "給与所得控除後の金額", 0},
	{C_KOJO_TOTAL, "所得控除の額の合計額", 0},
	{C_GENSEN, "源泉徴収税額", 0},
	{C_MICHOSHU, "未徴収税額", 0},
	{C_SPOUSE_UMU, "控除対象配偶者の有無", 0},
	{C_SPOUSE_ROJIN, "老人控除対象配偶者", 0},
	{C_SPOUSE_KOJO, "配偶者(特別)控除の額", 0},
	{C_FUYO_TOKUTEI, "控除対象扶養親族の数_特定", 0},
	{C_FUYO_ROJIN, "控除対象扶養親族の数_老人", 0},
	{C_FUYO_DOKYO, "控除対象扶養親族の数_老人_同居老親等", 0},
	{C_FUYO_OTHER, "控除対象扶養親族の数_その他", 0},
	{C_U16_COUNT, "16歳未満扶養親族の数", 0},
	{C_SHOGAI_TOKU, "障害者の数_特別", 0},
	{C_SHOGAI_OTHER, "障害者の数_その他", 0},
	{C_HIKYOJU, "非居住者である親族の数", 0},
	{C_SHAKAI, "社会保険料等の金額", 0},
	{C_SHOKIBO, "小規模企業共済等掛金の額", 0},
	{C_SEIMEI_KOJO, "生命保険料の控除額", 0},
	{C_JISHIN_KOJO, "地震保険料の控除額", 0},
	{C_JUTAKU_KOJO, "住宅借入金等特別控除の額", 0},
	{C_SEIMEI_NEW, "新生命保険料の金額", 0},
	{C_SEIMEI_OLD, "旧生命保険料の金額", 0},
	{C_KAIGO, "介護医療保険料の金額", 0},
	{C_NENKIN_NEW, "新個人年金保険料の金額", 0},
	{C_NENKIN_OLD, "旧個人年金保険料の金額", 0},
	{C_JUTAKU_N, "住宅借入金等特別控除適用数", 0},
	{C_JUTAKU_KANO, "住宅借入金等特別控除可能額", 0},
	{C_KYOJU_DATE, "居住開始年月日(1回目)", 0},
	{C_JUTAKU_ZAN, "住宅借入金等年末残高(1回目)", 0},
	{C_SPOUSE_INCOME, "配偶者の合計所得", 0},
	{C_KOKUMIN, "国民年金保険料等の金額", 0},
	{C_KISO, "控除_基礎", 0},
	{C_CHOSEI, "給与_所得金額調整控除額", 0},
	{C_HITORIOYA, "本人_ひとり親", 0},
	{C_KAFU, "本人_寡婦", 0},
	{C_HON_SHOGAI_TOKU, "本人_障害者_特別", 0},
	{C_HON_SHOGAI_OTHER, "本人_障害者_その他", 0},
	{C_KINRO, "本人_勤労学生", 0},
	{C_MISEINEN, "未成年者", 0},
	{C_OTSU, "乙欄", 0},
	{C_GAIKOKU, "外国人", 0},
	{C_CHUTO_KBN, "中途就・退職区分", 0},
	{C_CHUTO_DATE, "中途就・退職年月日", 0},
	{C_SP_NAME, "控除対象配偶者_氏名", 0},
	{C_SP_KANA, "控除対象配偶者_フリガナ", 0},
	{C_SP_NUM, "控除対象配偶者_個人番号", 0},
	{C_D1_NAME, "扶養親族1_氏名", 0},
	{C_D1_KANA, "扶養親族1_フリガナ", 0},
	{C_D1_REL, "扶養親族1_続柄", 0},
	{C_D1_NUM, "扶養親族1_個人番号", 0},
	{C_D2_NAME, "扶養親族2_氏名", 0},
	{C_D2_KANA, "扶養親族2_フリガナ", 0},
	{C_D2_REL, "扶養親族2_続柄", 0},
	{C_D2_NUM, "扶養親族2_個人番号", 0},
	{C_D3_NAME, "扶養親族3_氏名", 0},
	{C_D3_KANA, "扶養親族3_フリガナ", 0},
	{C_D3_REL, "扶養親族3_続柄", 0},
	{C_D3_NUM, "扶養親族3_個人番号", 0},
	{C_D4_NAME, "扶養親族4_氏名", 0},
	{C_D4_KANA, "扶養親族4_フリガナ", 0},
	{C_D4_REL, "扶養親族4_続柄", 0},
	{C_D4_NUM, "扶養親族4_個人番号", 0},
	{C_U1_NAME, "16歳未満扶養親族1_氏名", 0},
	{C_U1_NUM, "16歳未満扶養親族1_個人番号", 0},
	{C_U2_NAME, "16歳未満扶養親族2_氏名", 0},
	{C_U2_NUM, "16歳未満扶養親族2_個人番号", 0},
	{C_U3_NAME, "16歳未満扶養親族3_氏名", 0},
	{C_U3_NUM, "16歳未満扶養親族3_個人番号", 0},
	{C_BIRTH_CODE, "生年月日", 0},
	{C_BIRTH_JIS, "生年月日_和暦", 0},
	{C_NUM, "受給者の個人番号", 0},
	{C_PAYER_NUM, "提出義務者の個人番号又は法人番号", 0},
	{C_JUKYU_NO, "受給者番号", 0},
	{C_ATENA, "宛名番号", 0},
	{C_TEKIYO, "摘要欄", F_TEXT},
	{C_KIFU_TOKUREI, "寄附金(市町村・都道府県分【特例控除対処】)", 0},
	{C_KIFU_OTHER, "寄附金(共同募金・日赤支部、市町村・都道府県分【特例控除対象外】)", 0},
	{C_GEN_IN, "所得税 定額減税額(入力値)", 0},
	{C_GENFUSOKU_IN, "所得税 定額減税不足額(入力値)", 0},
	{C_GEN_CALC, "所得税 定額減税額(計算値)", 0},
	{C_GENFUSOKU_CALC, "所得税 定額減税不足額(計算値)", 0},
	{C_GEN_NINZU, "所得税 定額減税対象人数", 0},
	{C_SHINRIN, "森林環境税額", 0},
	{C_SASHIHIKI, "差引住民税額", 0},
	{C_SHI_GEN, "市_定額減税額", 0},
	{C_KEN_GEN, "県_定額減税額", 0},
};

static const struct coldef NARROW[] = {
	{C_JUKYU_NO, "受給者番号", 0},
	{C_NAME, "氏名", 0},
	{C_KANA, "フリガナ", 0},
	{C_BIRTH_JIS, "生年月日", 0},
	{C_ADDR, "住所", 0},
	{C_NUM, "受給者の個人番号", 0},
	{C_D1_NUM, "扶養親族1_個人番号", 0},
	{C_TEKIYO, "摘要欄", F_TEXT},
};

static const struct coldef MARKER_COL = {C_MARKER, "照合用マーカー", 0};

#define NWIDE (sizeof WIDE / sizeof WIDE[0])
#define NNARROW (sizeof NARROW / sizeof NARROW[0])
#define MAXCOLS (NWIDE + 1)

/* ------------------------------------------------------------------ */
/* Options */

enum enc { E_UTF8, E_UTF8_BOM, E_CP932, E_EUCJP };
enum fmt { FMT_CSV, FMT_TSV, FMT_NDJSON };
enum inv { INV_CHECK, INV_LETTERS, INV_LENGTH };

struct opts {
	uint64_t rows, seed, persons;
	int persons_set;
	enum enc enc;
	int eol_crlf, eol_set;
	enum fmt fmt;
	int narrow, mixed, markers, gaiji, text_numbers;
	uint64_t invalid_row; /* 0: none */
	enum inv invalid_kind;
	int invalid_kind_set;
	const char *out;
	int corpus;          /* --corpus: the labelled corpus layout */
	const char *labels;  /* --labels FILE */
	const char *layout_opt; /* the first option that is about the wide/narrow layout */
};

/* ------------------------------------------------------------------ */
/* Random numbers: splitmix64, one independent stream per row / person /
 * company, so a row's content does not depend on the rows before it. */

static uint64_t mix64(uint64_t z)
{
	z += 0x9E3779B97F4A7C15ull;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

struct rng {
	uint64_t s;
};

static struct rng rng_for(uint64_t seed, uint64_t tag, uint64_t i)
{
	struct rng r = {mix64(mix64(seed ^ (tag * 0xD1B54A32D192ED03ull)) + i)};
	return r;
}

static uint64_t next64(struct rng *r)
{
	r->s += 0x9E3779B97F4A7C15ull;
	uint64_t z = r->s;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint32_t below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((next64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static long range(struct rng *r, long lo, long hi)
{
	return lo + (long)below(r, (uint32_t)(hi - lo + 1));
}

/* True with probability permille/1000. */
static int chance(struct rng *r, unsigned permille)
{
	return below(r, 1000) < permille;
}

#define TAG_PERSON 1
#define TAG_ROW 2
#define TAG_COMPANY 3
#define TAG_PERM 4
#define TAG_PICK 5
#define TAG_MARKER 6
#define TAG_FORMS 7
#define TAG_REMARK 8
#define TAG_TEXTNUM 9

/* ------------------------------------------------------------------ */
/* Individual Numbers: slot -> 11-digit base by a keyed permutation of
 * [0, 10^11), so distinct slots give distinct numbers.  The permutation is
 * an alternating Feistel network on the halves x = hi * 10^6 + lo
 * (hi < 10^5, lo < 10^6): each round adds a keyed hash of one half to the
 * other modulo its size, which is invertible, so the whole is a bijection. */

#define LO_MOD 1000000ull /* 10^6 */
#define HI_MOD 100000ull  /* 10^5 */
#define ROUNDS 8
/* Per person: slot 0 the person, 1 spouse, 2..5 dependants 1-4, 6..8
 * dependants under 16; 9 unused. */
#define SLOTS 10

static uint64_t permute(const uint64_t key[ROUNDS], uint64_t x)
{
	uint64_t hi = x / LO_MOD, lo = x % LO_MOD;
	for (int i = 0; i < ROUNDS; i += 2) {
		hi = (hi + mix64(lo ^ key[i]) % HI_MOD) % HI_MOD;
		lo = (lo + mix64(hi ^ key[i + 1]) % LO_MOD) % LO_MOD;
	}
	return hi * LO_MOD + lo;
}

static void make_mynumber(const uint64_t key[ROUNDS], uint64_t slot, char out[13])
{
	uint64_t b = permute(key, slot);
	for (int i = 10; i >= 0; i--) {
		out[i] = (char)('0' + b % 10);
		b /= 10;
	}
	out[11] = (char)('0' + spif_mynumber_check_digit(out));
	out[12] = 0;
}

/* ------------------------------------------------------------------ */
/* Dates */

struct date {
	int y, m, d;
};

static long days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static struct date civil_from_days(long z)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097;
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long y = yoe + era * 400;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long mp = (5 * doy + 2) / 153;
	struct date dt;
	dt.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	dt.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	dt.y = (int)(y + (dt.m <= 2));
	return dt;
}

static struct date random_date(struct rng *r, int y0, int y1)
{
	long a = days_from_civil(y0, 1, 1), b = days_from_civil(y1, 12, 31);
	return civil_from_days(range(r, a, b));
}

/* Era code 1..5 (明治 .. 令和) and year in that era. */
static int era_of(struct date dt, int *ey)
{
	long k = dt.y * 10000L + dt.m * 100L + dt.d;
	if (k >= 20190501) { *ey = dt.y - 2018; return 5; }
	if (k >= 19890108) { *ey = dt.y - 1988; return 4; }
	if (k >= 19261225) { *ey = dt.y - 1925; return 3; }
	if (k >= 19120730) { *ey = dt.y - 1911; return 2; }
	*ey = dt.y - 1867;
	return 1;
}

/* Age on 2024-12-31 (the reports are for 令和6年分). */
static int age_of(struct date b)
{
	return 2024 - b.y;
}

/* ------------------------------------------------------------------ */
/* Encoded strings */

struct bs {
	const char *p;
	size_t n;
};

struct gen {
	struct opts o;
	const struct coldef *cols[MAXCOLS];
	size_t ncols;
	int csv, tsv, json;
	uint64_t perm_key[ROUNDS];

	/* encoded tables */
	iconv_t to, from;   /* UTF-8 -> output, output -> UTF-8 (CP932/EUC-JP) */
	char **allocs;
	size_t nallocs, capallocs;
	struct bs *sur_k, *sur_r, *var_k, *var_r, *gai_pre, *gai_post, *gai_r;
	struct bs *gm_k, *gm_r, *gf_k, *gf_r;
	struct bs *pref, *town, *bldg, *industry, *core, *cprefix, *csuffix;
	struct bs *yaku, *shubetsu, *zoku, *remark, *piece;
	struct bs *colname, *jsonkey; /* per output column */
	struct bs eol;

	/* output */
	int fd;
	const char *outname;
	char *buf;
	size_t len, cap;
	char *scratch; /* one field, for quoting/escaping */
	FILE *labels;  /* --corpus --labels */
};

static void die(struct gen *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void cleanup(struct gen *g);

static void die(struct gen *g, int code, const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g)
		cleanup(g);
	exit(code);
}

static void *xmalloc(struct gen *g, size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die(g, SPIF_EX_SOFTWARE, "out of memory");
	return p;
}

static void keep(struct gen *g, void *p)
{
	if (g->nallocs == g->capallocs) {
		size_t nc = g->capallocs ? g->capallocs * 2 : 64;
		char **a = realloc(g->allocs, nc * sizeof *a);
		if (!a) {
			free(p);
			die(g, SPIF_EX_SOFTWARE, "out of memory");
		}
		g->allocs = a;
		g->capallocs = nc;
	}
	g->allocs[g->nallocs++] = p;
}

static void *alloc_kept(struct gen *g, size_t n)
{
	void *p = xmalloc(g, n);
	keep(g, p);
	return p;
}

/* Run iconv over the whole of in; returns a malloc'd result (kept) or NULL
 * if a character does not convert. */
static char *conv_all(struct gen *g, iconv_t cd, const char *in, size_t n, size_t *outn)
{
	size_t cap = n * 2 + 16;
	char *out = xmalloc(g, cap);
	char *ip = (char *)in, *op = out;
	size_t il = n, ol = cap;
	iconv(cd, NULL, NULL, NULL, NULL);
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		free(out);
		return NULL;
	}
	*outn = (size_t)(op - out);
	keep(g, out);
	return out;
}

/* Apply the EUC-JP substitutions to a UTF-8 string (result kept). */
static const char *euc_subst(struct gen *g, const char *s)
{
	size_t n = strlen(s), cap = n * 3 + 1;
	char *out = alloc_kept(g, cap), *op = out;
	while (*s) {
		size_t i;
		for (i = 0; i < sizeof EUC_SUBST / sizeof EUC_SUBST[0]; i++) {
			size_t l = strlen(EUC_SUBST[i][0]);
			if (strncmp(s, EUC_SUBST[i][0], l) == 0) {
				size_t m = strlen(EUC_SUBST[i][1]);
				memcpy(op, EUC_SUBST[i][1], m);
				op += m;
				s += l;
				break;
			}
		}
		if (i == sizeof EUC_SUBST / sizeof EUC_SUBST[0])
			*op++ = *s++;
	}
	*op = 0;
	return out;
}

/* One fixed string in the output encoding; checked to round-trip, and
 * (unless special_ok) to hold nothing that CSV quotes or JSON escapes. */
static struct bs encode_x(struct gen *g, const char *s, int special_ok)
{
	struct bs b;
	if (!special_ok && strpbrk(s, ",\"\\\t\r\n"))
		die(g, SPIF_EX_SOFTWARE, "internal: table string \"%s\" holds a character that needs quoting", s);
	if (g->o.enc == E_UTF8 || g->o.enc == E_UTF8_BOM) {
		b.p = s;
		b.n = strlen(s);
		return b;
	}
	if (g->o.enc == E_EUCJP)
		s = euc_subst(g, s);
	size_t n = strlen(s), en, bn;
	char *e = conv_all(g, g->to, s, n, &en);
	if (!e)
		die(g, SPIF_EX_SOFTWARE, "internal: table string \"%s\" has no %s form", s,
		    g->o.enc == E_CP932 ? "CP932" : "EUC-JP");
	char *back = conv_all(g, g->from, e, en, &bn);
	if (!back || bn != n || memcmp(back, s, n) != 0)
		die(g, SPIF_EX_SOFTWARE, "internal: table string \"%s\" does not round-trip through %s", s,
		    g->o.enc == E_CP932 ? "CP932" : "EUC-JP");
	b.p = e;
	b.n = en;
	return b;
}

static struct bs encode(struct gen *g, const char *s)
{
	return encode_x(g, s, 0);
}

static struct bs *encode_list(struct gen *g, const char *const *src, size_t n, size_t stride)
{
	struct bs *t = alloc_kept(g, n * sizeof *t);
	for (size_t i = 0; i < n; i++)
		t[i] = encode(g, src[i * stride]);
	return t;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ENC_PAIRS(tab, k, r)                                                   \
	do {                                                                       \
		k = encode_list(g, &tab[0][0], COUNT(tab), COUNT(tab[0]));             \
		r = encode_list(g, &tab[0][1], COUNT(tab), COUNT(tab[0]));             \
	} while (0)

static void init_tables(struct gen *g)
{
	if (g->o.enc == E_CP932 || g->o.enc == E_EUCJP) {
		const char *name = g->o.enc == E_CP932 ? "CP932" : "EUC-JP";
		g->to = iconv_open(name, "UTF-8");
		g->from = iconv_open("UTF-8", name);
		if (g->to == (iconv_t)-1 || g->from == (iconv_t)-1)
			die(g, SPIF_EX_UNAVAILABLE, "iconv cannot convert UTF-8 to %s", name);
	}
	ENC_PAIRS(SURNAME, g->sur_k, g->sur_r);
	ENC_PAIRS(SURNAME_VAR, g->var_k, g->var_r);
	ENC_PAIRS(GIVEN_M, g->gm_k, g->gm_r);
	ENC_PAIRS(GIVEN_F, g->gf_k, g->gf_r);
	g->gai_pre = encode_list(g, &GAIJI_SURNAME[0][0], COUNT(GAIJI_SURNAME), 3);
	g->gai_post = encode_list(g, &GAIJI_SURNAME[0][1], COUNT(GAIJI_SURNAME), 3);
	g->gai_r = encode_list(g, &GAIJI_SURNAME[0][2], COUNT(GAIJI_SURNAME), 3);
	g->pref = encode_list(g, PREF_CITY, COUNT(PREF_CITY), 1);
	g->town = encode_list(g, TOWN, COUNT(TOWN), 1);
	g->bldg = encode_list(g, BUILDING, COUNT(BUILDING), 1);
	g->industry = encode_list(g, INDUSTRY, COUNT(INDUSTRY), 1);
	g->core = encode_list(g, CORE, COUNT(CORE), 1);
	g->cprefix = encode_list(g, CORP_PREFIX, COUNT(CORP_PREFIX), 1);
	g->csuffix = encode_list(g, CORP_SUFFIX, COUNT(CORP_SUFFIX), 1);
	g->yaku = encode_list(g, YAKUSHOKU, COUNT(YAKUSHOKU), 1);
	g->shubetsu = encode_list(g, SHUBETSU, COUNT(SHUBETSU), 1);
	g->zoku = encode_list(g, ZOKUGARA, COUNT(ZOKUGARA), 1);
	g->remark = encode_list(g, REMARK, COUNT(REMARK), 1);
	/* pieces with , or " are used in 摘要欄 only */
	g->piece = alloc_kept(g, P_NPIECES * sizeof *g->piece);
	for (int i = 0; i < P_NPIECES; i++)
		g->piece[i] = encode_x(g, PIECE[i], i == P_R_QUOTE || i == P_R_ZENSHOKU_TAX || i == P_R_KEIRI ||
		                                        i == P_T_KAKUNIN);

	g->colname = alloc_kept(g, g->ncols * sizeof *g->colname);
	g->jsonkey = alloc_kept(g, g->ncols * sizeof *g->jsonkey);
	for (size_t i = 0; i < g->ncols; i++) {
		g->colname[i] = encode(g, g->cols[i]->name);
		/* NDJSON is UTF-8 only; names hold no characters JSON escapes. */
		size_t n = strlen(g->cols[i]->name);
		char *k = alloc_kept(g, n + 8);
		int kl = snprintf(k, n + 8, "%s\"%s\":\"", i ? "," : "{", g->cols[i]->name);
		g->jsonkey[i].p = k;
		g->jsonkey[i].n = (size_t)kl;
	}
	g->eol.p = g->o.eol_crlf ? "\r\n" : "\n";
	g->eol.n = g->o.eol_crlf ? 2 : 1;
}

/* ------------------------------------------------------------------ */
/* Output */

#define BUF_CAP (8u << 20)
#define ROW_MAX (256u << 10) /* a row never comes near this */

static void flush_out(struct gen *g)
{
	size_t off = 0;
	while (off < g->len) {
		ssize_t w = write(g->fd, g->buf + off, g->len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			die(g, SPIF_EX_IOERR, "%s: write: %s", g->outname, strerror(e));
		}
		off += (size_t)w;
	}
	g->len = 0;
}

static inline void put(struct gen *g, struct bs s)
{
	memcpy(g->buf + g->len, s.p, s.n);
	g->len += s.n;
}

static inline void putc_(struct gen *g, char c)
{
	g->buf[g->len++] = c;
}

static inline void putmem(struct gen *g, const char *p, size_t n)
{
	memcpy(g->buf + g->len, p, n);
	g->len += n;
}

static void put_u(struct gen *g, uint64_t v)
{
	if (v < 10) {
		g->buf[g->len++] = (char)('0' + v);
		return;
	}
	char t[24];
	int i = 24;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	putmem(g, t + i, (size_t)(24 - i));
}

static void put_pad(struct gen *g, uint64_t v, int width)
{
	char t[24];
	for (int i = width - 1; i >= 0; i--) {
		t[i] = (char)('0' + v % 10);
		v /= 10;
	}
	putmem(g, t, (size_t)width);
}

/* 1,234,567 */
static void put_comma(struct gen *g, uint64_t v)
{
	char t[32];
	int i = 32, k = 0;
	do {
		if (k && k % 3 == 0)
			t[--i] = ',';
		t[--i] = (char)('0' + v % 10);
		v /= 10;
		k++;
	} while (v);
	putmem(g, t + i, (size_t)(32 - i));
}

static void put_fw(struct gen *g, const char *digits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(g, g->piece[P_FW_DIGIT0 + (digits[i] - '0')]);
}

static void put_fw_u(struct gen *g, uint64_t v)
{
	char t[24];
	int i = 24;
	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_fw(g, t + i, (size_t)(24 - i));
}

/* One user-area 外字 U+E000 + i (i < 1880). */
static void put_pua(struct gen *g, unsigned i)
{
	if (g->o.enc == E_CP932) {
		unsigned t = i % 188;
		putc_(g, (char)(0xF0 + i / 188));
		putc_(g, (char)(t < 63 ? 0x40 + t : 0x41 + t));
	} else {
		unsigned cp = 0xE000 + i;
		putc_(g, (char)0xEE);
		putc_(g, (char)(0x80 | ((cp >> 6) & 0x3F)));
		putc_(g, (char)(0x80 | (cp & 0x3F)));
	}
}

/* ------------------------------------------------------------------ */
/* Persons */

struct name {
	uint16_t sur;      /* index into the chosen surname table */
	uint8_t surtab;    /* 0 SURNAME, 1 SURNAME_VAR, 2 GAIJI_SURNAME */
	uint8_t female;
	uint16_t given;
	uint16_t pua;      /* gaiji: PUA offset */
};

struct kin {
	struct name nm;
	struct date birth;
	int rel; /* ZOKUGARA index */
	char num[13];
};

struct person {
	uint64_t idx;
	struct name nm;
	struct date birth;
	char num[13];
	int pref, town, chome, ban, go, bldg, room, addr_style;
	uint64_t atena;
	int has_spouse;
	struct kin spouse;
	int ndep;
	struct kin dep[4];
	int nu16;
	struct kin u16[3];
	int hitorioya, kafu, shogai, kinro, gaikoku;
};

static void pick_given(struct rng *r, struct name *nm, int female)
{
	nm->female = (uint8_t)female;
	nm->given = (uint16_t)below(r, female ? COUNT(GIVEN_F) : COUNT(GIVEN_M));
}

static void make_person(const struct gen *g, uint64_t p, struct person *ps)
{
	struct rng r = rng_for(g->o.seed, TAG_PERSON, p);
	memset(ps, 0, sizeof *ps);
	ps->idx = p;
	/* surname: every draw is made whatever the options, so that --gaiji
	 * changes only the names it turns into 外字 names */
	unsigned kind = below(&r, 1000);
	unsigned gai = below(&r, COUNT(GAIJI_SURNAME)), gaiv = below(&r, 4);
	unsigned var = below(&r, COUNT(SURNAME_VAR));
	/* Zipf-ish: the first 20 (the commonest) half the time */
	unsigned common = chance(&r, 500) ? below(&r, 20) : below(&r, COUNT(SURNAME));
	if (g->o.gaiji && kind < 60) {
		ps->nm.surtab = 2;
		ps->nm.sur = (uint16_t)gai;
		/* a few code points per glyph family, as different systems assigned */
		ps->nm.pua = (uint16_t)((gai * 131u + gaiv * 7u) % 1880u);
	} else if (kind >= 920) {
		ps->nm.surtab = 1;
		ps->nm.sur = (uint16_t)var;
	} else {
		ps->nm.surtab = 0;
		ps->nm.sur = (uint16_t)common;
	}
	int female = chance(&r, 450);
	pick_given(&r, &ps->nm, female);
	ps->birth = random_date(&r, 1949, 2006);
	make_mynumber(g->perm_key, p * SLOTS, ps->num);
	ps->pref = (int)below(&r, COUNT(PREF_CITY));
	ps->town = (int)below(&r, COUNT(TOWN));
	ps->chome = (int)range(&r, 1, 9);
	ps->ban = (int)range(&r, 1, 30);
	ps->go = (int)range(&r, 1, 25);
	ps->addr_style = (int)below(&r, 3);
	ps->bldg = chance(&r, 350) ? (int)below(&r, COUNT(BUILDING)) : -1;
	ps->room = (int)(range(&r, 1, 8) * 100 + range(&r, 1, 12));
	ps->atena = (p * 7919ull + 100003ull) % 10000000000ull;

	int age = age_of(ps->birth);
	struct name fam = ps->nm;
	/* spouse: 40% */
	if (age >= 20 && chance(&r, 400)) {
		ps->has_spouse = 1;
		ps->spouse.nm = fam;
		pick_given(&r, &ps->spouse.nm, !female);
		int sy = ps->birth.y + (int)range(&r, -6, 6);
		if (sy > 2004)
			sy = 2004;
		ps->spouse.birth = random_date(&r, sy, sy);
		make_mynumber(g->perm_key, p * SLOTS + 1, ps->spouse.num);
	}
	/* dependants aged 16+: 35%, then 20%, 8%, 3% of persons */
	static const unsigned dep_next[4] = {350, 571, 400, 375}; /* conditional, per mille */
	int sons = 0, daus = 0;
	for (int k = 0; k < 4; k++) {
		if (!chance(&r, dep_next[k]))
			break;
		struct kin *d = &ps->dep[k];
		d->nm = fam;
		int parent = age >= 50 ? chance(&r, 450) : age < 38;
		if (parent) {
			int fem = chance(&r, 600);
			pick_given(&r, &d->nm, fem);
			int py = ps->birth.y - (int)range(&r, 24, 34);
			if (py < 1925)
				py = 1925;
			d->birth = random_date(&r, py, py);
			d->rel = fem ? (chance(&r, 300) ? Z_MIL : Z_MOTHER) : (chance(&r, 300) ? Z_FIL : Z_FATHER);
		} else {
			int fem = chance(&r, 500);
			pick_given(&r, &d->nm, fem);
			int cy = 2024 - (int)range(&r, 16, 22);
			d->birth = random_date(&r, cy, cy);
			int ord = fem ? daus++ : sons++;
			if (ord > 2)
				ord = 2;
			d->rel = fem ? Z_DAU1 + 2 * ord : Z_SON1 + 2 * ord;
		}
		make_mynumber(g->perm_key, p * SLOTS + 2 + (uint64_t)k, d->num);
		ps->ndep = k + 1;
	}
	/* under 16: 25%, then 12%, 4% of persons (parents aged 20..60) */
	static const unsigned u16_next[3] = {350, 480, 333};
	for (int k = 0; k < 3 && age >= 20 && age <= 60; k++) {
		if (!chance(&r, u16_next[k]))
			break;
		struct kin *d = &ps->u16[k];
		d->nm = fam;
		int fem = chance(&r, 500);
		pick_given(&r, &d->nm, fem);
		int oldest = age - 18 < 15 ? age - 18 : 15;
		int cy = 2024 - (int)range(&r, 0, oldest);
		d->birth = random_date(&r, cy, cy);
		int ord = fem ? daus++ : sons++;
		if (ord > 2)
			ord = 2;
		d->rel = fem ? Z_DAU1 + 2 * ord : Z_SON1 + 2 * ord;
		make_mynumber(g->perm_key, p * SLOTS + 6 + (uint64_t)k, d->num);
		ps->nu16 = k + 1;
	}
	ps->hitorioya = !ps->has_spouse && (ps->ndep || ps->nu16) && chance(&r, 300);
	ps->kafu = !ps->has_spouse && female && !ps->hitorioya && age > 55 && chance(&r, 150);
	ps->shogai = chance(&r, 20) ? (chance(&r, 300) ? 2 : 1) : 0;
	ps->kinro = age <= 22 && chance(&r, 200);
	ps->gaikoku = chance(&r, 15);
}

/* ------------------------------------------------------------------ */
/* Companies (提出義務者) */

struct company {
	int form;   /* 0 prefix, 1 suffix, 2 none */
	int typ;    /* CORP_PREFIX / CORP_SUFFIX index */
	int core_sur; /* -1: CORE[core]; else SURNAME index + INDUSTRY[core] */
	int core;
	int pref, town, chome, ban, go;
	int area, tel1, tel2;
	char corpnum[14];
	uint64_t seiri1; /* 0: blank */
	int honshiten;   /* 0: blank */
	uint64_t seiri2; /* 0: blank */
};

static void make_company(const struct gen *g, uint64_t c, struct company *co)
{
	struct rng r = rng_for(g->o.seed, TAG_COMPANY, c);
	unsigned f = below(&r, 100);
	int by_surname = chance(&r, 500);
	if (by_surname) {
		co->core_sur = (int)below(&r, COUNT(SURNAME));
		co->core = (int)below(&r, COUNT(INDUSTRY));
	} else {
		co->core_sur = -1;
		co->core = (int)below(&r, COUNT(CORE));
	}
	if (f < 60) {
		co->form = 0; /* 山田製作所 is a company: ㈱ 株式会社 有限会社 ㈲ 合同会社 */
		co->typ = (int)below(&r, by_surname ? 5 : COUNT(CORP_PREFIX));
	} else if (f < 95) {
		co->form = 1;
		co->typ = (int)below(&r, COUNT(CORP_SUFFIX));
	} else {
		co->form = 2;
	}
	co->pref = (int)below(&r, COUNT(PREF_CITY));
	co->town = (int)below(&r, COUNT(TOWN));
	co->chome = (int)range(&r, 1, 9);
	co->ban = (int)range(&r, 1, 30);
	co->go = (int)range(&r, 1, 25);
	co->area = (int)below(&r, COUNT(AREA_CODE));
	co->tel1 = (int)range(&r, 100, 9999);
	co->tel2 = (int)range(&r, 0, 9999);
	/* 法人番号: check digit + 会社法人等番号 (登記所 4 + 種別 2 + serial 6) */
	char base[13];
	uint64_t bv = (uint64_t)range(&r, 100, 9999) * 100000000ull + (co->form == 2 ? 5u : 1u) * 1000000ull +
	              (uint64_t)range(&r, 0, 999999);
	for (int i = 11; i >= 0; i--, bv /= 10)
		base[i] = (char)('0' + bv % 10);
	base[12] = 0;
	co->corpnum[0] = (char)('0' + spif_corpnum_check_digit(base));
	memcpy(co->corpnum + 1, base, 13);
	co->seiri1 = chance(&r, 600) ? (uint64_t)range(&r, 10000000, 99999999) * 100 + below(&r, 100) : 0;
	co->honshiten = chance(&r, 200) ? (int)range(&r, 1, 99) : 0;
	co->seiri2 = chance(&r, 150) ? 1000000000000ull + (next64(&r) % 9000000000000ull) : 0;
}

/* ------------------------------------------------------------------ */
/* Row values */

struct amounts {
	uint64_t pay, kyuyo, chosei, shakai, shokibo, seimei_kojo, jishin_kojo, jutaku_kojo;
	uint64_t seimei_new, seimei_old, kaigo, nenkin_new, nenkin_old, jutaku_kano, jutaku_zan;
	uint64_t spouse_income, spouse_kojo, kokumin, kiso, kojo_total, gensen, miharai, michoshu;
	uint64_t kifu_t, kifu_o, gen_calc, genfusoku, shinrin, sashihiki, shi_gen, ken_gen;
	int ninzu, tokutei, rojin, dokyo, other, jutaku_n, spouse_rojin;
	struct date kyoju;
	int gen_in_blank;
};

static uint64_t max0(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
}

static void make_amounts(struct rng *r, const struct person *ps, struct amounts *a)
{
	memset(a, 0, sizeof *a);
	unsigned band = below(r, 100);
	if (band < 15)
		a->pay = (uint64_t)range(r, 300000, 1500000);
	else if (band < 85)
		a->pay = (uint64_t)range(r, 2400000, 7500000);
	else
		a->pay = (uint64_t)range(r, 7500000, 16000000);
	uint64_t p = a->pay;
	uint64_t ded;
	if (p <= 1625000)
		ded = p < 550000 ? p : 550000;
	else if (p <= 1800000)
		ded = p * 40 / 100 - 100000;
	else if (p <= 3600000)
		ded = p * 30 / 100 + 80000;
	else if (p <= 6600000)
		ded = p * 20 / 100 + 440000;
	else if (p <= 8500000)
		ded = p * 10 / 100 + 1100000;
	else
		ded = 1950000;
	a->kyuyo = p - ded;
	if (p > 8500000 && (ps->ndep || ps->nu16))
		a->chosei = ((p > 10000000 ? 10000000 : p) - 8500000) / 10;
	a->shakai = p * 144 / 1000;
	if (chance(r, 550)) {
		a->seimei_new = (uint64_t)range(r, 24, 240) * 500;
		if (chance(r, 300))
			a->seimei_old = (uint64_t)range(r, 24, 200) * 500;
		if (chance(r, 400))
			a->kaigo = (uint64_t)range(r, 12, 120) * 500;
		if (chance(r, 250))
			a->nenkin_new = (uint64_t)range(r, 24, 240) * 500;
		uint64_t sk = a->seimei_new > 80000 ? 40000 : a->seimei_new / 4 + 20000;
		a->seimei_kojo = sk + (a->kaigo ? 20000 : 0) + (a->nenkin_new ? 20000 : 0);
		if (a->seimei_kojo > 120000)
			a->seimei_kojo = 120000;
	}
	if (chance(r, 300))
		a->jishin_kojo = (uint64_t)range(r, 5, 50) * 1000;
	if (chance(r, 30))
		a->shokibo = (uint64_t)range(r, 1, 84) * 10000;
	if (chance(r, 80))
		a->kokumin = (uint64_t)range(r, 1, 12) * 16980;
	a->kiso = 480000;
	/* spouse and dependants */
	int64_t kojo = 0;
	if (ps->has_spouse) {
		a->spouse_rojin = age_of(ps->spouse.birth) >= 70;
		a->spouse_income = chance(r, 700) ? 0 : (uint64_t)range(r, 1, 48) * 10000;
		a->spouse_kojo = a->spouse_rojin ? 480000 : 380000;
		kojo += (int64_t)a->spouse_kojo;
	}
	for (int k = 0; k < ps->ndep; k++) {
		int age = age_of(ps->dep[k].birth);
		if (age >= 19 && age <= 22) {
			a->tokutei++;
			kojo += 630000;
		} else if (age >= 70) {
			a->rojin++;
			if (chance(r, 500)) {
				a->dokyo++;
				kojo += 580000;
			} else {
				kojo += 480000;
			}
		} else {
			a->other++;
			kojo += 380000;
		}
	}
	if (chance(r, 120)) {
		a->jutaku_n = 1;
		a->kyoju = random_date(r, 2012, 2023);
		a->jutaku_zan = (uint64_t)range(r, 500, 4500) * 10000;
		a->jutaku_kano = a->jutaku_zan * 7 / 1000;
		if (a->jutaku_kano > 350000)
			a->jutaku_kano = 350000;
	}
	a->kojo_total = a->shakai + a->shokibo + a->seimei_kojo + a->jishin_kojo + a->kiso + a->kokumin +
	                (uint64_t)kojo + (ps->hitorioya ? 350000u : 0) + (ps->kafu ? 270000u : 0) +
	                (ps->shogai == 2 ? 400000u : ps->shogai ? 270000u : 0) + (ps->kinro ? 270000u : 0);
	uint64_t taxable = max0((int64_t)a->kyuyo - (int64_t)a->chosei - (int64_t)a->kojo_total) / 1000 * 1000;
	int64_t t = (int64_t)taxable, tax;
	if (t <= 1950000)
		tax = t * 5 / 100;
	else if (t <= 3300000)
		tax = t * 10 / 100 - 97500;
	else if (t <= 6950000)
		tax = t * 20 / 100 - 427500;
	else if (t <= 9000000)
		tax = t * 23 / 100 - 636000;
	else if (t <= 18000000)
		tax = t * 33 / 100 - 1536000;
	else
		tax = t * 40 / 100 - 2796000;
	if (a->jutaku_n) {
		int64_t jk = (int64_t)a->jutaku_kano < tax ? (int64_t)a->jutaku_kano : tax;
		a->jutaku_kojo = (uint64_t)jk;
		tax -= jk;
	}
	/* 定額減税 (令和6年): 所得税 30,000 / 住民税 10,000 per person */
	a->ninzu = 1 + ps->has_spouse + ps->ndep + ps->nu16;
	uint64_t gen = 30000ull * (uint64_t)a->ninzu;
	a->gen_calc = (uint64_t)tax < gen ? (uint64_t)tax : gen;
	a->genfusoku = gen - a->gen_calc;
	tax -= (int64_t)a->gen_calc;
	a->gensen = (uint64_t)(tax * 1021 / 1000) / 100 * 100;
	a->gen_in_blank = chance(r, 200);
	if (chance(r, 20))
		a->miharai = (uint64_t)range(r, 1, 50) * 10000;
	if (chance(r, 15))
		a->michoshu = (uint64_t)range(r, 1, 30) * 1000;
	/* 住民税 (roughly: 10% of income after its own deductions) */
	int64_t rtaxable = (int64_t)taxable + 50000 * (1 + ps->has_spouse + ps->ndep);
	int64_t shotokuwari = taxable ? rtaxable / 10 : 0;
	uint64_t rgen = 10000ull * (uint64_t)a->ninzu;
	uint64_t used = (uint64_t)shotokuwari < rgen ? (uint64_t)shotokuwari : rgen;
	a->shi_gen = used * 6 / 10;
	a->ken_gen = used - a->shi_gen;
	a->shinrin = a->kyuyo > 450000 ? 1000 : 0;
	a->sashihiki = a->kyuyo > 450000 ? (uint64_t)(shotokuwari - (int64_t)used) / 100 * 100 + 4000 : 0;
	if (chance(r, 300))
		a->kifu_t = (uint64_t)range(r, 1, 200) * 1000 + 2000;
	if (chance(r, 40))
		a->kifu_o = (uint64_t)range(r, 1, 30) * 1000;
}

/* ------------------------------------------------------------------ */
/* Field writers */

static void put_surname(struct gen *g, const struct name *nm)
{
	switch (nm->surtab) {
	case 0: put(g, g->sur_k[nm->sur]); break;
	case 1: put(g, g->var_k[nm->sur]); break;
	default:
		put(g, g->gai_pre[nm->sur]);
		put_pua(g, nm->pua);
		put(g, g->gai_post[nm->sur]);
	}
}

static void put_name(struct gen *g, const struct name *nm)
{
	put_surname(g, nm);
	put(g, g->piece[P_SPACE]);
	put(g, nm->female ? g->gf_k[nm->given] : g->gm_k[nm->given]);
}

static void put_kana(struct gen *g, const struct name *nm)
{
	switch (nm->surtab) {
	case 0: put(g, g->sur_r[nm->sur]); break;
	case 1: put(g, g->var_r[nm->sur]); break;
	default: put(g, g->gai_r[nm->sur]);
	}
	put(g, g->piece[P_SPACE]);
	put(g, nm->female ? g->gf_r[nm->given] : g->gm_r[nm->given]);
}

/* 3600214: era code, year, month, day */
static void put_era_code(struct gen *g, struct date d)
{
	int ey, e = era_of(d, &ey);
	putc_(g, (char)('0' + e));
	put_pad(g, (uint64_t)ey, 2);
	put_pad(g, (uint64_t)d.m, 2);
	put_pad(g, (uint64_t)d.d, 2);
}

/* S60.02.14 (JIS X 0301) */
static void put_jis_date(struct gen *g, struct date d)
{
	int ey, e = era_of(d, &ey);
	putc_(g, "MTSHR"[e - 1]);
	put_pad(g, (uint64_t)ey, 2);
	putc_(g, '.');
	put_pad(g, (uint64_t)d.m, 2);
	putc_(g, '.');
	put_pad(g, (uint64_t)d.d, 2);
}

/* 令和3年4月1日, 令和元年5月1日 */
static void put_kanji_date(struct gen *g, struct date d)
{
	int ey, e = era_of(d, &ey);
	put(g, g->piece[P_ERA_M + e - 1]);
	if (ey == 1)
		put(g, g->piece[P_GAN]);
	else
		put_u(g, (uint64_t)ey);
	put(g, g->piece[P_NEN]);
	put_u(g, (uint64_t)d.m);
	put(g, g->piece[P_TSUKI]);
	put_u(g, (uint64_t)d.d);
	put(g, g->piece[P_HI]);
}

static void put_address(struct gen *g, int pref, int town, int chome, int ban, int go, int style,
                        int bldg, int room)
{
	put(g, g->pref[pref]);
	put(g, g->town[town]);
	switch (style) {
	case 0: /* １丁目２番３号 */
		put_fw_u(g, (uint64_t)chome);
		put(g, g->piece[P_CHOME]);
		put_fw_u(g, (uint64_t)ban);
		put(g, g->piece[P_BAN]);
		put_fw_u(g, (uint64_t)go);
		put(g, g->piece[P_GO]);
		break;
	case 1: /* １－２－３ */
		put_fw_u(g, (uint64_t)chome);
		put(g, g->piece[P_SEP_FWMINUS]);
		put_fw_u(g, (uint64_t)ban);
		put(g, g->piece[P_SEP_FWMINUS]);
		put_fw_u(g, (uint64_t)go);
		break;
	default: /* １２番地３ */
		put_fw_u(g, (uint64_t)(chome * 10 + ban));
		put(g, g->piece[P_BANCHI]);
		put_fw_u(g, (uint64_t)go);
	}
	if (bldg >= 0) {
		put(g, g->piece[P_SPACE]);
		put(g, g->bldg[bldg]);
		put_fw_u(g, (uint64_t)room);
		put(g, g->piece[P_GOSHITSU]);
	}
}

static void put_company_name(struct gen *g, const struct company *co)
{
	if (co->form == 0)
		put(g, g->cprefix[co->typ]);
	if (co->core_sur >= 0) {
		put(g, g->sur_k[co->core_sur]);
		put(g, g->industry[co->core]);
	} else {
		put(g, g->core[co->core]);
	}
	if (co->form == 1)
		put(g, g->csuffix[co->typ]);
}

static const int SEP_PIECE[] = {-1, -2, P_SPACE, P_SEP_FWMINUS, P_SEP_CHOON}; /* - ' ' 　 － ー */

static void put_sep(struct gen *g, int which)
{
	int s = SEP_PIECE[which];
	if (s == -1)
		putc_(g, '-');
	else if (s == -2)
		putc_(g, ' ');
	else
		put(g, g->piece[s]);
}

/* A number in one of its written forms: 0 plain, 1 full-width, 2 4-4-4
 * ASCII digits with separator sep, 3 the same in full-width digits. */
static void put_number_form(struct gen *g, const char *num, int form, int sep)
{
	switch (form) {
	case 0: putmem(g, num, 12); break;
	case 1: put_fw(g, num, 12); break;
	case 2:
	case 3:
		for (int i = 0; i < 3; i++) {
			if (i)
				put_sep(g, sep);
			if (form == 2)
				putmem(g, num + 4 * i, 4);
			else
				put_fw(g, num + 4 * i, 4);
		}
		break;
	}
}

/* A number-field value: --forms plain always plain; mixed: 55% plain,
 * 15% full-width, 20% 4-4-4 ASCII with a separator, 10% 4-4-4 full-width. */
static void put_number_field(struct gen *g, struct rng *r, const char *num)
{
	if (!g->o.mixed) {
		putmem(g, num, 12);
		return;
	}
	unsigned f = below(r, 100);
	int sep = (int)below(r, COUNT(SEP_PIECE));
	put_number_form(g, num, f < 55 ? 0 : f < 70 ? 1 : f < 90 ? 2 : 3, sep);
}

/* The invalid 受給者の個人番号 of --invalid-row. */
static void put_invalid_number(struct gen *g, struct rng *r, const char *num)
{
	char t[13];
	memcpy(t, num, 13);
	switch (g->o.invalid_kind) {
	case INV_CHECK: /* any other check digit */
		t[11] = (char)('0' + (t[11] - '0' + 1 + (int)below(r, 9)) % 10);
		putmem(g, t, 12);
		break;
	case INV_LETTERS: /* O for 0 / I for 1 style typos, or a letter */
		t[3] = 'O';
		t[8] = 'I';
		putmem(g, t, 12);
		break;
	case INV_LENGTH: /* the first digit lost (as a spreadsheet drops a leading 0) */
		putmem(g, t + 1, 11);
		break;
	}
}

/* 摘要欄 with an embedded Individual Number (--text-numbers): the
 * 受給者's own (rel < 0) in any of the forms, a dependant's (rel: 続柄) in
 * the forms that do not say whose it is or say 扶養親族. */
static void put_text_number(struct gen *g, struct rng *r, const char *num, int rel)
{
	static const int dep_forms[4] = {2, 3, 4, 7};
	unsigned form = below(r, 8);
	if (rel >= 0)
		form = (unsigned)dep_forms[form % 4];
	switch (form) {
	case 0: /* 前職分個人番号621498320257を含む */
		put(g, g->piece[P_T_ZENSHOKU_NO]);
		put_number_form(g, num, 0, 0);
		put(g, g->piece[P_T_WO_FUKUMU]);
		break;
	case 1: /* マイナンバー：６２１４－９８３２－０２５７ */
		put(g, g->piece[P_T_MYNUMBER]);
		put_number_form(g, num, 3, 3);
		break;
	case 2: /* 扶養親族（長女）の個人番号 6214 9832 0257 を追記 / 本人の… */
		if (rel >= 0) {
			put(g, g->piece[P_T_FUYO]);
			put(g, g->piece[P_R_OPEN]);
			put(g, g->zoku[rel]);
			put(g, g->piece[P_R_CLOSE]);
		} else {
			put(g, g->piece[P_T_HONNIN]);
		}
		put(g, g->piece[P_T_FUYO_NO]);
		put_number_form(g, num, 2, 1);
		put(g, g->piece[P_T_TSUIKI]);
		break;
	case 3: /* 個人番号:6214-9832-0257 */
		put(g, g->piece[P_T_KOJIN_COLON]);
		put_number_form(g, num, 2, 0);
		break;
	case 4: /* 番号６２１４９８３２０２５７にて照会済 */
		put(g, g->piece[P_T_BANGO]);
		put_number_form(g, num, 1, 0);
		put(g, g->piece[P_T_SHOKAI]);
		break;
	case 5: /* ﾏｲﾅﾝﾊﾞｰ 621498320257 (half-width kana) */
		put(g, g->piece[P_T_HANKAKU]);
		put_number_form(g, num, 0, 0);
		break;
	case 6: /* 本人確認済み, 個人番号 6214-9832-0257 (通知カード)  (needs quoting) */
		put(g, g->piece[P_T_KAKUNIN]);
		put_number_form(g, num, 2, 0);
		put(g, g->piece[P_T_TSUCHI]);
		break;
	default: /* 個人番号　6214　9832　0257 */
		put(g, g->piece[P_T_KOJIN]);
		put(g, g->piece[P_SPACE]);
		put_number_form(g, num, 2, 2);
		break;
	}
}

static void put_remark(struct gen *g, struct rng *r, const struct person *ps, const struct company *co,
                       const struct amounts *a)
{
	unsigned k = below(r, 100);
	if (k < 55)
		return;
	if (k < 80) {
		put(g, g->remark[below(r, COUNT(REMARK))]);
		return;
	}
	switch (below(r, 9)) {
	case 0: /* 前職分を含む（㈱山田製作所　令和６年３月退職） */
		put(g, g->piece[P_R_ZENSHOKU]);
		put_company_name(g, co);
		put(g, g->piece[P_R_REIWA6]);
		put_fw_u(g, (uint64_t)range(r, 1, 11));
		put(g, g->piece[P_R_TAISHOKU_CLOSE]);
		break;
	case 1: /* 住宅借入金等特別控除可能額　123,456円 (comma: quoted in CSV) */
		put(g, g->piece[P_R_JUTAKU]);
		put_comma(g, a->jutaku_kano ? a->jutaku_kano : (uint64_t)range(r, 50, 350) * 1000);
		put(g, g->piece[P_R_YEN]);
		break;
	case 2: /* 扶養親族：山田　花子（長女） */
		if (ps->ndep) {
			put(g, g->piece[P_R_FUYO]);
			put_name(g, &ps->dep[0].nm);
			put(g, g->piece[P_R_OPEN]);
			put(g, g->zoku[ps->dep[0].rel]);
			put(g, g->piece[P_R_CLOSE]);
		} else {
			put(g, g->remark[0]);
		}
		break;
	case 3: /* 年の中途で就職（R06.04.01） */
		put(g, g->piece[P_R_SHUSHOKU]);
		put_pad(g, (uint64_t)range(r, 1, 12), 2);
		putc_(g, '.');
		put_pad(g, (uint64_t)range(r, 1, 28), 2);
		put(g, g->piece[P_R_CLOSE]);
		break;
	case 4: /* 前職の"源泉徴収票"添付あり (quotes; TSV gets 「」) */
		put(g, g->piece[g->tsv ? P_R_QUOTE_TSV : P_R_QUOTE]);
		break;
	case 5: /* a line break inside the field (LF, as a spreadsheet writes it) */
		put(g, g->piece[P_R_LB1]);
		if (g->tsv)
			put(g, g->piece[P_SPACE]);
		else
			putc_(g, '\n');
		put(g, g->piece[P_R_LB2]);
		break;
	case 6:
		put(g, g->piece[P_R_KOKUMIN]);
		put_comma(g, a->kokumin ? a->kokumin : 16980);
		put(g, g->piece[P_R_KOKUMIN2]);
		break;
	case 7: /* 前職支払金額 1,234,567円, 源泉徴収税額 12,300円 */
		put(g, g->piece[P_R_ZENSHOKU_PAY]);
		put_comma(g, (uint64_t)range(r, 100, 4000) * 1000);
		put(g, g->piece[P_R_ZENSHOKU_TAX]);
		put_comma(g, (uint64_t)range(r, 0, 2000) * 100);
		put(g, g->piece[P_R_YEN]);
		break;
	default:
		put(g, g->piece[P_R_KEIRI]);
	}
}

static void put_amount(struct gen *g, uint64_t v)
{
	put_u(g, v);
}

/* Amount, or empty when 0 (as most exports leave unused amounts). */
static void put_amount_opt(struct gen *g, uint64_t v)
{
	if (v)
		put_u(g, v);
}

/* ------------------------------------------------------------------ */
/* Quoting / escaping of one field written at g->buf[start .. len) */

static void csv_fix(struct gen *g, size_t start)
{
	size_t n = g->len - start, q = 0;
	const char *s = g->buf + start;
	int need = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '"')
			q++, need = 1;
		else if (c == ',' || c == '\r' || c == '\n')
			need = 1;
	}
	if (!need)
		return;
	memcpy(g->scratch, s, n);
	g->len = start;
	putc_(g, '"');
	for (size_t i = 0; i < n; i++) {
		if (g->scratch[i] == '"')
			putc_(g, '"');
		putc_(g, g->scratch[i]);
	}
	putc_(g, '"');
}

static void json_fix(struct gen *g, size_t start)
{
	size_t n = g->len - start;
	const unsigned char *s = (const unsigned char *)g->buf + start;
	int need = 0;
	for (size_t i = 0; i < n && !need; i++)
		need = s[i] == '"' || s[i] == '\\' || s[i] < 0x20;
	if (!need)
		return;
	memcpy(g->scratch, s, n);
	g->len = start;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)g->scratch[i];
		switch (c) {
		case '"': putmem(g, "\\\"", 2); break;
		case '\\': putmem(g, "\\\\", 2); break;
		case '\n': putmem(g, "\\n", 2); break;
		case '\r': putmem(g, "\\r", 2); break;
		case '\t': putmem(g, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char t[8];
				snprintf(t, sizeof t, "\\u%04x", c);
				putmem(g, t, 6);
			} else {
				putc_(g, (char)c);
			}
		}
	}
}

static void tsv_check(struct gen *g, size_t start)
{
	for (size_t i = start; i < g->len; i++)
		if (g->buf[i] == '\t' || g->buf[i] == '\n' || g->buf[i] == '\r')
			die(g, SPIF_EX_SOFTWARE, "internal: TSV field holds a tab or line break");
}

/* ------------------------------------------------------------------ */
/* Rows */

struct rowctx {
	uint64_t row; /* 0-based data row */
	struct person ps;
	struct company co;
	struct amounts a;
	int invalid;
	struct rng forms, remark, textnum; /* own streams: options do not shift the rest */
};

static uint64_t person_of_row(const struct gen *g, uint64_t row)
{
	if (row < g->o.persons)
		return row;
	struct rng r = rng_for(g->o.seed, TAG_PICK, row);
	return next64(&r) % g->o.persons;
}

/* Rows come in runs of 25 from one employer (提出義務者); the employer
 * depends only on the run, so a shorter file is a prefix of a longer one. */
static uint64_t company_of_row(const struct gen *g, uint64_t row)
{
	return mix64(g->o.seed ^ (row / 25) * 0x9E3779B97F4A7C15ull);
}

static void put_kin_name(struct gen *g, const struct kin *k, int present)
{
	if (present)
		put_name(g, &k->nm);
}

static void write_field(struct gen *g, struct rowctx *x, struct rng *r, enum col c)
{
	const struct person *ps = &x->ps;
	const struct company *co = &x->co;
	const struct amounts *a = &x->a;
	int d;
	switch (c) {
	case C_SHURUI: putmem(g, "315", 3); break;
	case C_SEIRI1:
		if (co->seiri1)
			put_pad(g, co->seiri1, 10);
		break;
	case C_HONSHITEN:
		if (co->honshiten)
			put_pad(g, (uint64_t)co->honshiten, 5);
		break;
	case C_PAYER_ADDR:
		put_address(g, co->pref, co->town, co->chome, co->ban, co->go, 0, -1, 0);
		break;
	case C_PAYER_NAME: put_company_name(g, co); break;
	case C_PAYER_TEL: {
		const char *ac = AREA_CODE[co->area];
		putmem(g, ac, strlen(ac));
		putc_(g, '-');
		put_pad(g, (uint64_t)co->tel1, strlen(ac) >= 4 ? 2 : strlen(ac) == 3 ? 3 : 4);
		putc_(g, '-');
		put_pad(g, (uint64_t)co->tel2, 4);
		break;
	}
	case C_SEIRI2:
		if (co->seiri2)
			put_u(g, co->seiri2);
		break;
	case C_TEISHUTSU_ADDR:
	case C_TEISHUTSU_NAME: break;
	case C_TEISEI: putc_(g, chance(r, 15) ? '1' : '0'); break;
	case C_NENBUN: putmem(g, chance(r, 30) ? "05" : "06", 2); break;
	case C_ADDR:
		put_address(g, ps->pref, ps->town, ps->chome, ps->ban, ps->go, ps->addr_style, ps->bldg,
		            ps->room);
		break;
	case C_KOKUGAI: putc_(g, '0'); break;
	case C_NAME: put_name(g, &ps->nm); break;
	case C_KANA: put_kana(g, &ps->nm); break;
	case C_YAKU: /* YAKUSHOKU: 0..5 and 9..12 regular posts, 6..8 part-time */
		if (a->pay < 1500000)
			put(g, g->yaku[6 + below(r, 3)]);
		else if (chance(r, 400)) {
			unsigned k = below(r, 10);
			put(g, g->yaku[k < 6 ? k : k + 3]);
		}
		break;
	case C_SHUBETSU: {
		unsigned k = below(r, 100);
		put(g, g->shubetsu[k < 85 ? 0 : k < 93 ? 1 : k < 98 ? 2 : 3]);
		break;
	}
	case C_PAY: put_amount(g, a->pay); break;
	case C_MIHARAI: put_amount_opt(g, a->miharai); break;
	case C_KYUYO_SHOTOKU: put_amount(g, a->kyuyo); break;
	case C_KOJO_TOTAL: put_amount(g, a->kojo_total); break;
	case C_GENSEN: put_amount(g, a->gensen); break;
	case C_MICHOSHU: put_amount_opt(g, a->michoshu); break;
	case C_SPOUSE_UMU: put(g, g->piece[ps->has_spouse ? P_YES : P_NO]); break;
	case C_SPOUSE_ROJIN: putc_(g, a->spouse_rojin ? '1' : '0'); break;
	case C_SPOUSE_KOJO: put_amount_opt(g, a->spouse_kojo); break;
	case C_FUYO_TOKUTEI: put_u(g, (uint64_t)a->tokutei); break;
	case C_FUYO_ROJIN: put_u(g, (uint64_t)a->rojin); break;
	case C_FUYO_DOKYO: put_u(g, (uint64_t)a->dokyo); break;
	case C_FUYO_OTHER: put_u(g, (uint64_t)a->other); break;
	case C_U16_COUNT: put_u(g, (uint64_t)ps->nu16); break;
	case C_SHOGAI_TOKU: putc_(g, '0'); break;
	case C_SHOGAI_OTHER: putc_(g, '0'); break;
	case C_HIKYOJU: putc_(g, '0'); break;
	case C_SHAKAI: put_amount(g, a->shakai); break;
	case C_SHOKIBO: put_amount_opt(g, a->shokibo); break;
	case C_SEIMEI_KOJO: put_amount_opt(g, a->seimei_kojo); break;
	case C_JISHIN_KOJO: put_amount_opt(g, a->jishin_kojo); break;
	case C_JUTAKU_KOJO: put_amount_opt(g, a->jutaku_kojo); break;
	case C_SEIMEI_NEW: put_amount_opt(g, a->seimei_new); break;
	case C_SEIMEI_OLD: put_amount_opt(g, a->seimei_old); break;
	case C_KAIGO: put_amount_opt(g, a->kaigo); break;
	case C_NENKIN_NEW: put_amount_opt(g, a->nenkin_new); break;
	case C_NENKIN_OLD: put_amount_opt(g, a->nenkin_old); break;
	case C_JUTAKU_N:
		if (a->jutaku_n)
			put_u(g, (uint64_t)a->jutaku_n);
		break;
	case C_JUTAKU_KANO: put_amount_opt(g, a->jutaku_kano); break;
	case C_KYOJU_DATE:
		if (a->jutaku_n)
			put_kanji_date(g, a->kyoju);
		break;
	case C_JUTAKU_ZAN: put_amount_opt(g, a->jutaku_zan); break;
	case C_SPOUSE_INCOME:
		if (ps->has_spouse)
			put_u(g, a->spouse_income);
		break;
	case C_KOKUMIN: put_amount_opt(g, a->kokumin); break;
	case C_KISO: put_amount(g, a->kiso); break;
	case C_CHOSEI: put_amount_opt(g, a->chosei); break;
	case C_HITORIOYA: putc_(g, ps->hitorioya ? '1' : '0'); break;
	case C_KAFU: putc_(g, ps->kafu ? '1' : '0'); break;
	case C_HON_SHOGAI_TOKU: putc_(g, ps->shogai == 2 ? '1' : '0'); break;
	case C_HON_SHOGAI_OTHER: putc_(g, ps->shogai == 1 ? '1' : '0'); break;
	case C_KINRO: putc_(g, ps->kinro ? '1' : '0'); break;
	case C_MISEINEN: putc_(g, age_of(ps->birth) < 18 ? '1' : '0'); break;
	case C_OTSU: putc_(g, chance(r, 20) ? '1' : '0'); break;
	case C_GAIKOKU: putc_(g, ps->gaikoku ? '1' : '0'); break;
	case C_CHUTO_KBN:
	case C_CHUTO_DATE: {
		/* one draw decides both: 就職 6%, 退職 5% */
		struct rng rr = rng_for(g->o.seed, TAG_ROW ^ 0x55, x->row);
		unsigned k = below(&rr, 100);
		if (k >= 11)
			break;
		if (c == C_CHUTO_KBN) {
			putc_(g, k < 6 ? '1' : '2');
		} else {
			struct date dt = {2024, (int)range(&rr, 1, 12), (int)range(&rr, 1, 28)};
			put_jis_date(g, dt);
		}
		break;
	}
	case C_SP_NAME: put_kin_name(g, &ps->spouse, ps->has_spouse); break;
	case C_SP_KANA:
		if (ps->has_spouse)
			put_kana(g, &ps->spouse.nm);
		break;
	case C_SP_NUM:
		if (ps->has_spouse)
			put_number_field(g, &x->forms, ps->spouse.num);
		break;
	case C_D1_NAME: case C_D2_NAME: case C_D3_NAME: case C_D4_NAME:
		d = (int)(c - C_D1_NAME) / 4;
		put_kin_name(g, &ps->dep[d], d < ps->ndep);
		break;
	case C_D1_KANA: case C_D2_KANA: case C_D3_KANA: case C_D4_KANA:
		d = (int)(c - C_D1_KANA) / 4;
		if (d < ps->ndep)
			put_kana(g, &ps->dep[d].nm);
		break;
	case C_D1_REL: case C_D2_REL: case C_D3_REL: case C_D4_REL:
		d = (int)(c - C_D1_REL) / 4;
		if (d < ps->ndep)
			put(g, g->zoku[ps->dep[d].rel]);
		break;
	case C_D1_NUM: case C_D2_NUM: case C_D3_NUM: case C_D4_NUM:
		d = (int)(c - C_D1_NUM) / 4;
		if (d < ps->ndep)
			put_number_field(g, &x->forms, ps->dep[d].num);
		break;
	case C_U1_NAME: case C_U2_NAME: case C_U3_NAME:
		d = (int)(c - C_U1_NAME) / 2;
		put_kin_name(g, &ps->u16[d], d < ps->nu16);
		break;
	case C_U1_NUM: case C_U2_NUM: case C_U3_NUM:
		d = (int)(c - C_U1_NUM) / 2;
		if (d < ps->nu16)
			put_number_field(g, &x->forms, ps->u16[d].num);
		break;
	case C_BIRTH_CODE: put_era_code(g, ps->birth); break;
	case C_BIRTH_JIS: put_jis_date(g, ps->birth); break;
	case C_NUM:
		if (x->invalid)
			put_invalid_number(g, &x->forms, ps->num);
		else
			put_number_field(g, &x->forms, ps->num);
		break;
	case C_PAYER_NUM: putmem(g, co->corpnum, 13); break;
	case C_JUKYU_NO: put_pad(g, x->row + 1, 7); break;
	case C_ATENA: put_pad(g, ps->atena, 10); break;
	case C_TEKIYO:
		if (g->o.text_numbers && chance(&x->textnum, 250)) {
			/* a number already in this row's number fields: the person's own,
			 * or the first dependant's (always for the invalid row) */
			if (ps->ndep && (x->invalid || chance(&x->textnum, 250))) {
				put_text_number(g, &x->textnum, ps->dep[0].num, ps->dep[0].rel);
				break;
			}
			if (!x->invalid) {
				put_text_number(g, &x->textnum, ps->num, -1);
				break;
			}
		}
		put_remark(g, &x->remark, ps, co, a);
		break;
	case C_KIFU_TOKUREI: put_amount_opt(g, a->kifu_t); break;
	case C_KIFU_OTHER: put_amount_opt(g, a->kifu_o); break;
	case C_GEN_IN:
		if (!a->gen_in_blank)
			put_u(g, a->gen_calc);
		break;
	case C_GENFUSOKU_IN:
		if (!a->gen_in_blank)
			put_u(g, a->genfusoku);
		break;
	case C_GEN_CALC: put_u(g, a->gen_calc); break;
	case C_GENFUSOKU_CALC: put_u(g, a->genfusoku); break;
	case C_GEN_NINZU: put_u(g, (uint64_t)a->ninzu); break;
	case C_SHINRIN: put_u(g, a->shinrin); break;
	case C_SASHIHIKI: put_u(g, a->sashihiki); break;
	case C_SHI_GEN: put_u(g, a->shi_gen); break;
	case C_KEN_GEN: put_u(g, a->ken_gen); break;
	case C_BIKO: break; /* --corpus writes its own rows */
	case C_MARKER: {
		/* MARKER-<seed>-<row>-<16 hex>; every 4th hex digit is a letter, so
		 * a marker never holds a run of 12 digits. */
		struct rng mr = rng_for(g->o.seed, TAG_MARKER, x->row);
		uint64_t h = next64(&mr);
		char t[17];
		for (int i = 0; i < 16; i++) {
			unsigned v = (unsigned)(h >> (4 * i)) & 15;
			if (i % 4 == 3 && v < 10)
				v = 10 + v % 6;
			t[i] = "0123456789abcdef"[v];
		}
		putmem(g, "MARKER-", 7);
		put_u(g, g->o.seed);
		putc_(g, '-');
		put_u(g, x->row + 1);
		putc_(g, '-');
		putmem(g, t, 16);
		break;
	}
	}
}

static void write_header(struct gen *g)
{
	if (g->json)
		return;
	for (size_t i = 0; i < g->ncols; i++) {
		if (i)
			putc_(g, g->tsv ? '\t' : ',');
		put(g, g->colname[i]);
	}
	put(g, g->eol);
}

static void write_row(struct gen *g, struct rowctx *x)
{
	struct rng r = rng_for(g->o.seed, TAG_ROW, x->row);
	x->forms = rng_for(g->o.seed, TAG_FORMS, x->row);
	x->remark = rng_for(g->o.seed, TAG_REMARK, x->row);
	x->textnum = rng_for(g->o.seed, TAG_TEXTNUM, x->row);
	make_amounts(&r, &x->ps, &x->a);
	for (size_t i = 0; i < g->ncols; i++) {
		const struct coldef *cd = g->cols[i];
		if (g->json)
			put(g, g->jsonkey[i]);
		else if (i)
			putc_(g, g->tsv ? '\t' : ',');
		size_t start = g->len;
		write_field(g, x, &r, cd->id);
		if (cd->flags & F_TEXT) {
			if (g->csv)
				csv_fix(g, start);
			else if (g->json)
				json_fix(g, start);
			else
				tsv_check(g, start);
		}
		if (g->json)
			putc_(g, '"');
	}
	if (g->json)
		putc_(g, '}');
	put(g, g->eol);
}

/* How many distinct Individual Numbers of person ps the layout shows. */
static int numbers_shown(const struct gen *g, const struct person *ps)
{
	int n = 0;
	for (size_t i = 0; i < g->ncols; i++) {
		switch (g->cols[i]->id) {
		case C_NUM: n += 1; break;
		case C_SP_NUM: n += ps->has_spouse; break;
		case C_D1_NUM: case C_D2_NUM: case C_D3_NUM: case C_D4_NUM:
			n += (int)(g->cols[i]->id - C_D1_NUM) / 4 < ps->ndep;
			break;
		case C_U1_NUM: case C_U2_NUM: case C_U3_NUM:
			n += (int)(g->cols[i]->id - C_U1_NUM) / 2 < ps->nu16;
			break;
		default: break;
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* --corpus: a labelled corpus for scoring the number detector.
 *
 * Five columns: 受給者番号 氏名 受給者の個人番号 摘要欄 備考.  The number
 * field always holds the row's valid number in some written form; the two
 * free-text fields hold filler sentences with planted Individual Numbers
 * and decoys.  Each free-text field is either a keyword field (every
 * number planted in it has a keyword - マイナンバー, 個人番号, my number ...
 * - within 300 characters; its only checksum-valid decoys are ones no
 * rule may take even with a keyword near: card numbers, 13 digits, a valid
 * 12 inside a longer table or run of groups) or a plain one (no keyword
 * anywhere in it; its numbers, and its checksum-valid order numbers and
 * dates, can be told apart only by context, and its numbers are only in
 * forms the detector takes without a keyword).  --labels
 * FILE gets one line per planted item:
 *   ROW TAB FIELD TAB CHAR_OFFSET TAB KIND TAB FORM TAB CONTEXT
 * ROW as spif reads it (the header is row 1); CHAR_OFFSET the characters
 * before the item's first digit in the field's value; KIND number, decoy
 * or decoy-valid; FORM how it is written; CONTEXT keyword, none or field. */

#define TAG_CORPUS 10
#define KW_REACH 300 /* characters: a keyword this close counts */

static const struct coldef CORPUS_COLS[] = {
	{C_JUKYU_NO, "受給者番号", 0},
	{C_NAME, "氏名", 0},
	{C_NUM, "受給者の個人番号", 0},
	{C_TEKIYO, "摘要欄", F_TEXT},
	{C_BIKO, "備考", F_TEXT},
};
#define NCORPUS (sizeof CORPUS_COLS / sizeof CORPUS_COLS[0])

/* Separators between 4-4-4 groups, and their names in FORM. */
static const char *const CSEP[][2] = {
	{"-", "hyphen"}, {"‐", "hyphen2010"}, {"−", "minus2212"}, {"－", "fwhyphen"},
	{"ー", "choon"}, {".", "dot"}, {"．", "fwdot"}, {" ", "space"}, {"　", "ideospace"},
};
#define NCSEP COUNT(CSEP)
#define CSEP_MINUS 2 /* U+2212 is not in CP932 (it would come back as U+FF0D) */

/* Separators the forms above do not use (numview.h knows them all), and
 * their names in FORM; list: a LIST kind (slash, comma, line break), which
 * the detector trusts only with a keyword near. */
static const struct {
	const char *s, *name;
	int list;
} NSEP[] = {
	{"‑", "nbhyphen2011", 0}, {"–", "endash2013", 0}, {"—", "emdash2014", 0}, {"―", "bar2015", 0},
	{"ｰ", "hwchoon", 0}, {"⁃", "hyphenbullet2043", 0}, {"﹘", "smallemdash", 0}, {"﹣", "smallhyphen", 0},
	{"·", "middledot", 0}, {"・", "nakaguro", 0}, {"･", "hwnakaguro", 0}, {"\xC2\xA0", "nbsp", 0},
	{"\xE2\x80\x89", "thin", 0}, {"\xE2\x80\xAF", "nnbsp", 0}, {"\xE2\x80\x82", "enspace", 0},
	{"_", "underscore", 0}, {"＿", "fwunderscore", 0}, {"\xE2\x80\x8B", "zwsp", 0},
	{"/", "slash", 1}, {"／", "fwslash", 1}, {",", "comma", 1}, {"，", "fwcomma", 1}, {"、", "touten", 1},
	{"\n", "lf", 1}, {"\r\n", "crlf", 1},
};
#define NNSEP COUNT(NSEP)
/* Two or three separators between groups, as typed or wrapped */
static const struct {
	const char *s, *name;
} DSEP[] = {
	{"--", "hyphens"}, {" - ", "spaced-hyphen"}, {"  ", "spaces"}, {"　　", "ideospaces"},
	{"\r\n ", "crlf-indent"}, {"、 ", "touten-space"}, {"－－", "fwhyphens"}, {" / ", "spaced-slash"},
	{". ", "dot-space"},
};
#define NDSEP COUNT(DSEP)
/* Groupings other than 4-4-4 (3-3-3-3 and 6-6 are found without a
 * keyword too, the others only with one) */
static const struct {
	int n, len[12];
	const char *name;
} GROUPING[] = {
	{4, {3, 3, 3, 3}, "3-3-3-3"}, {2, {6, 6}, "6-6"},
	{6, {2, 2, 2, 2, 2, 2}, "2x6"}, {12, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "1x12"},
	{2, {8, 4}, "8-4"}, {2, {4, 8}, "4-8"}, {2, {5, 7}, "5-7"}, {3, {3, 4, 5}, "3-4-5"}, {2, {2, 10}, "2-10"},
	{4, {4, 4, 2, 2}, "4-4-2-2"},
};
#define NGROUPING COUNT(GROUPING)
#define GROUPING_LOW 2 /* GROUPING[0, 2) are found without a keyword */
/* Words before a checksum-valid run the detector takes for none (no
 * keyword in them) */
static const char *const CVALID[] = {"集計 ", "管理コード ", "区分 ", "受付 ", "点数 ", "内訳 "};
/* Words after such a run */
static const char *const CVALID_AFTER[] = {"件", "点", "個", "円", "回"};
/* Separators in a table or a run of groups */
static const char *const TSEP[] = {",", " ", "　", "-", "/", "_"};
#define TSEP_COMMA 0

/* Filler: no digit, no keyword, no separator at either end. */
static const char *const CFILL[] = {
	"前職分を含む", "年末調整済み", "扶養控除等申告書の提出あり", "本人確認は運転免許証で実施",
	"住所変更の届出あり", "詳細は総務課まで", "給与支払報告書（個人別明細書）を提出",
	"退職に伴い普通徴収へ切替", "特別徴収税額の通知先を変更", "源泉徴収票を再発行", "書類は別送",
	"窓口で受付", "電話にて照会済み", "本人より申出あり", "扶養親族の異動あり", "住民税の減額申請",
	"確認済み", "要再確認", "担当者に引継ぎ", "see attached", "checked by staff",
	"番号の記載漏れなし", "通知書の送付先は本社", "カード再発行の手続き中", "控えを保管",
	"原本は返却済み", "令和六年分として処理", "記載内容に誤りなし", "押印漏れのため再提出",
	"ふりがなを訂正", "法定調書合計表と照合", "本人確認書類の写しを添付", "勤務先：山田商事",
	/* near misses: no keyword for an Individual Number */
	"個人情報の取扱いに注意", "提出義務者の法人番号を確認", "番号通知の控えあり", "account number on file",
	"マイナポータルで確認", "個人別に集計",
};
#define CONN_TOUTEN 1 /* 、 */
static const char *const CCONN[] = {"。", "、", "；", "／"};
/* Around a number, without a keyword */
static const char *const CLEFT[] = {
	"番号", "受付番号", "ID", "（", "「", "：", "No.", "整理番号：", "", "第", "控え", "A", "＃",
};
#define LEFT_NONE 8   /* "" */
#define RIGHT_NONE 10 /* "" */
static const char *const CRIGHT[] = {
	"）", "」", "。", "、", "を確認", "です", "番", "号", "で照会済", " を登録", "", "など", "X",
};
/* Keyword phrases, before the number and after it */
static const char *const CKW_BEFORE[] = {
	"個人番号", "個人番号：", "マイナンバー", "マイナンバー：", "マイナンバー（個人番号）",
	"個人番号カードの番号", "通知カード記載の番号", "共通番号", "個人識別番号", "My Number: ",
	"mynumber=", "my_number ", "Individual Number ", "kojin bango ", "マイナンバーカード番号",
	"個人識別ナンバー", "MY NUMBER ",
};
/* Just a keyword, for a number whose keyword is just out of reach (a
 * phrase could hold one nearer than its edge) */
static const char *const CKW_PURE[] = {
	"個人番号", "マイナンバー", "共通番号", "個人識別番号", "通知カード", "個人番号カード", "my number",
};
static const char *const CKW_AFTER[] = {
	"（マイナンバー）", "は本人の個人番号", "を個人番号として登録", " (my number)",
	"：通知カードにて確認", "＝個人番号", "（個人番号カード）",
};
/* Words before (and after) a decoy's digits */
static const char *const CDECOY[] = {
	"受注番号：", "伝票No.", "問合せ番号 ", "TEL ", "携帯 ", "〒", "支払金額 ", "円",
	"整理番号", "カード番号 ", "届出日 ", "年", "月", "日", "受付日時 ", "まで",
};
enum { D_JUCHU, D_DENPYO, D_TOIAWASE, D_TEL, D_KEITAI, D_POST, D_SHIHARAI, D_YEN, D_SEIRI,
       D_CARD, D_TODOKE, D_NEN, D_TSUKI, D_HI, D_UKETSUKE, D_MADE };
/* Words after a count next to a number (6214 9832 0257 1件) */
static const char *const CCOUNT[] = {"件", "名", "枚", "通"};

/* Digits one separator away from a number, as people write them: a date, a
 * postal code, No.3 or a count before it; a count, a date or a postal code
 * after it.  Their FORM names (the number's own form is not kept). */
enum { NEAR_DATE_BEFORE, NEAR_POSTAL_BEFORE, NEAR_NO_BEFORE, NEAR_COUNT_BEFORE, NEAR_COUNT_AFTER,
       NEAR_DATE_AFTER, NEAR_POSTAL_AFTER, NNEAR };
static const char *const NEAR_NAME[NNEAR] = {
	"near-date-before", "near-postal-before", "near-no-before", "near-count-before",
	"near-count-after", "near-date-after", "near-postal-after",
};
#define NEAR_PERMILLE 80 /* how often a planted number (and a wrong one) gets such digits */
#define NEW_PERMILLE 200 /* how often a number is written in a new form (NSEP, GROUPING, DSEP) */

struct cstr {
	struct bs b;
	unsigned chars; /* characters (the same in every encoding) */
};

struct corpus {
	struct cstr sep[NCSEP], fill[COUNT(CFILL)], conn[COUNT(CCONN)], left[COUNT(CLEFT)],
		right[COUNT(CRIGHT)], kwb[COUNT(CKW_BEFORE)], kwa[COUNT(CKW_AFTER)], decoy[COUNT(CDECOY)],
		kwpure[COUNT(CKW_PURE)], count[COUNT(CCOUNT)], nsep[NNSEP], dsep[NDSEP],
		cvalid[COUNT(CVALID)], cvalid_after[COUNT(CVALID_AFTER)], tsep[COUNT(TSEP)];
	int sep_ok[NCSEP], nsep_ok[NNSEP];
	uint64_t row;      /* 0-based data row being written */
	const char *field; /* its field being written */
	size_t fstart;     /* where the field's value starts in g->buf */
	unsigned slot;     /* next number slot of the row */
	/* for the summary line */
	uint64_t numbers, in_field, with_kw, without_kw, decoys, decoys_valid;
};

static unsigned utf8_chars(const char *s)
{
	unsigned c = 0;
	for (; *s; s++)
		c += ((unsigned char)*s & 0xC0) != 0x80;
	return c;
}

static void cencode(struct gen *g, struct cstr *out, const char *const *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[i].b = encode(g, src[i]);
		out[i].chars = utf8_chars(src[i]);
	}
}

static void init_corpus(struct gen *g, struct corpus *cp)
{
	memset(cp, 0, sizeof *cp);
	for (size_t i = 0; i < NCSEP; i++) {
		cp->sep_ok[i] = !(i == CSEP_MINUS && g->o.enc == E_CP932);
		if (cp->sep_ok[i])
			cencode(g, &cp->sep[i], &CSEP[i][0], 1);
	}
	for (size_t i = 0; i < NNSEP; i++) { /* not every one is in CP932 */
		const char *u = NSEP[i].s;
		size_t en, bn;
		char *e = g->o.enc == E_CP932 ? conv_all(g, g->to, u, strlen(u), &en) : NULL;
		char *back = e ? conv_all(g, g->from, e, en, &bn) : NULL;
		cp->nsep_ok[i] = g->o.enc != E_CP932 || (back && bn == strlen(u) && memcmp(back, u, bn) == 0);
		if (cp->nsep_ok[i]) {
			cp->nsep[i].b = encode_x(g, u, 1);
			cp->nsep[i].chars = utf8_chars(u);
		}
	}
	for (size_t i = 0; i < NDSEP; i++) {
		cp->dsep[i].b = encode_x(g, DSEP[i].s, 1);
		cp->dsep[i].chars = utf8_chars(DSEP[i].s);
	}
	cencode(g, cp->cvalid, CVALID, COUNT(CVALID));
	for (size_t i = 0; i < COUNT(TSEP); i++) {
		cp->tsep[i].b = encode_x(g, TSEP[i], 1);
		cp->tsep[i].chars = utf8_chars(TSEP[i]);
	}
	cencode(g, cp->cvalid_after, CVALID_AFTER, COUNT(CVALID_AFTER));
	cencode(g, cp->fill, CFILL, COUNT(CFILL));
	cencode(g, cp->conn, CCONN, COUNT(CCONN));
	cencode(g, cp->left, CLEFT, COUNT(CLEFT));
	cencode(g, cp->right, CRIGHT, COUNT(CRIGHT));
	cencode(g, cp->kwb, CKW_BEFORE, COUNT(CKW_BEFORE));
	cencode(g, cp->kwa, CKW_AFTER, COUNT(CKW_AFTER));
	cencode(g, cp->kwpure, CKW_PURE, COUNT(CKW_PURE));
	cencode(g, cp->decoy, CDECOY, COUNT(CDECOY));
	cencode(g, cp->count, CCOUNT, COUNT(CCOUNT));
}

/* Characters in the output bytes g->buf[from, to) (UTF-8 or CP932). */
static size_t out_chars(const struct gen *g, size_t from, size_t to)
{
	size_t c = 0;
	const unsigned char *b = (const unsigned char *)g->buf;
	if (g->o.enc == E_CP932) {
		for (size_t i = from; i < to; c++)
			i += ((b[i] >= 0x81 && b[i] <= 0x9F) || (b[i] >= 0xE0 && b[i] <= 0xFC)) ? 2 : 1;
		return c;
	}
	for (size_t i = from; i < to; i++)
		c += (b[i] & 0xC0) != 0x80;
	return c;
}

/* A label for the item whose first digit is at g->buf[at]. */
static void label(struct gen *g, struct corpus *cp, size_t at, const char *kind, const char *form,
                  const char *ctx)
{
	if (g->labels)
		fprintf(g->labels, "%" PRIu64 "\t%s\t%zu\t%s\t%s\t%s\n", cp->row + 2, cp->field,
		        out_chars(g, cp->fstart, at), kind, form, ctx);
}

static int pick_sep(struct rng *r, const struct corpus *cp)
{
	int s;
	do
		s = (int)below(r, NCSEP);
	while (!cp->sep_ok[s]);
	return s;
}

/* A separator other than avoid (-1: any). */
static int pick_sep_not(struct rng *r, const struct corpus *cp, int avoid)
{
	int s;
	do
		s = pick_sep(r, cp);
	while (s == avoid);
	return s;
}

static const struct cstr *pick(struct rng *r, const struct cstr *t, size_t n)
{
	return &t[below(r, (uint32_t)n)];
}
#define PICK(r, t) pick(r, t, COUNT(t))

/* Digits d[0, n): width 0 ASCII, 1 full-width, 2 each either way (some
 * of both when n > 1). */
static void put_digits_w(struct gen *g, struct rng *r, const char *d, size_t n, int width)
{
	if (width == 2) {
		unsigned mask = n > 1 ? (unsigned)below(r, (1u << n) - 2) + 1 : 1; /* not all, not none */
		for (size_t i = 0; i < n; i++) {
			if (mask >> i & 1)
				put(g, g->piece[P_FW_DIGIT0 + (d[i] - '0')]);
			else
				putc_(g, d[i]);
		}
	} else if (width == 1) {
		put_fw(g, d, n);
	} else {
		putmem(g, d, n);
	}
}

/* A 12-digit number in one of the forms people type; its FORM in form.
 * avoid >= 0: its groups, if it has separators, are split by one kind
 * only, and not by CSEP[avoid]. */
static void put_corpus_number_x(struct gen *g, struct rng *r, const struct corpus *cp, const char *num,
                                char form[48], int avoid)
{
	unsigned f = below(r, 100);
	if (f < 30) {
		putmem(g, num, 12);
		strcpy(form, "plain");
	} else if (f < 42) {
		put_fw(g, num, 12);
		strcpy(form, "fullwidth");
	} else if (f < 77) { /* ASCII 4-4-4 with one kind of separator, sometimes two */
		int s1 = pick_sep_not(r, cp, avoid), s2 = avoid < 0 && chance(r, 150) ? pick_sep(r, cp) : s1;
		putmem(g, num, 4);
		put(g, cp->sep[s1].b);
		putmem(g, num + 4, 4);
		put(g, cp->sep[s2].b);
		putmem(g, num + 8, 4);
		if (s1 == s2)
			snprintf(form, 48, "grouped-%s", CSEP[s1][1]);
		else
			strcpy(form, "grouped-twoseps");
	} else if (f < 89) { /* full-width 4-4-4 */
		int s = pick_sep_not(r, cp, avoid);
		for (int k = 0; k < 3; k++) {
			if (k)
				put(g, cp->sep[s].b);
			put_fw(g, num + 4 * k, 4);
		}
		snprintf(form, 48, "mixed-fw-%s", CSEP[s][1]);
	} else if (f < 95) { /* half- and full-width digits mixed */
		put_digits_w(g, r, num, 12, 2);
		strcpy(form, "mixed-digits");
	} else { /* groups of either width, 4-4-4 */
		int s = pick_sep_not(r, cp, avoid);
		char w[3] = {0, 1, (char)below(r, 2)};
		if (chance(r, 500))
			w[0] = 1, w[1] = 0;
		for (int k = 0; k < 3; k++) {
			if (k)
				put(g, cp->sep[s].b);
			put_digits_w(g, r, num + 4 * k, 4, w[k]);
		}
		snprintf(form, 48, "mixed-groups-%s", CSEP[s][1]);
	}
}

static void put_corpus_number(struct gen *g, struct rng *r, const struct corpus *cp, const char *num,
                              char form[48])
{
	put_corpus_number_x(g, r, cp, num, form, -1);
}

/* A separator of NSEP, of a LIST kind (list 1), not (0), or either (-1). */
static int pick_nsep(struct rng *r, const struct corpus *cp, int list)
{
	int s;
	do
		s = (int)below(r, NNSEP);
	while (!cp->nsep_ok[s] || (list >= 0 && NSEP[s].list != list));
	return s;
}

/* num in groups of len[0, n), sep between them, digits of width w (as
 * put_digits_w). */
static void put_groups(struct gen *g, struct rng *r, const char *num, const int *len, int n, struct bs sep,
                       int w)
{
	size_t at = 0;
	for (int k = 0; k < n; k++) {
		if (k)
			put(g, sep);
		put_digits_w(g, r, num + at, (size_t)len[k], w == 2 && len[k] == 1 ? (int)below(r, 2) : w);
		at += (size_t)len[k];
	}
}

/* A number in one of the forms beyond the classic ones above: separators
 * of NSEP, groupings of GROUPING, two or three separators between groups.
 * kwonly 0: a form the detector takes without a keyword (JOIN separators,
 * 4-4-4, 3-3-3-3, 6-6); 1: one it takes only with a keyword near (LIST
 * separators, other groupings, doubled separators).  Returns kwonly. */
static int put_new_form(struct gen *g, struct rng *r, const struct corpus *cp, const char *num, char form[48],
                        int kwonly)
{
	static const int l444[] = {4, 4, 4};
	unsigned f = kwonly ? 40 + below(r, 60) : 0, wr = below(r, 100);
	int w = wr < 75 ? 0 : wr < 90 ? 1 : 2;
	const char *wn = w == 0 ? "" : w == 1 ? "fw-" : "mixed-";
	if (!kwonly) { /* found without a keyword: JOIN separators, 4-4-4 3-3-3-3 6-6 */
		unsigned k = below(r, 100);
		int useclassic = k >= 60 && chance(r, 500);
		struct bs sep;
		const char *sname;
		if (useclassic) {
			int c = pick_sep(r, cp);
			sep = cp->sep[c].b, sname = CSEP[c][1];
		} else {
			int c = pick_nsep(r, cp, 0);
			sep = cp->nsep[c].b, sname = NSEP[c].name;
		}
		if (k < 60) {
			put_groups(g, r, num, l444, 3, sep, w);
			snprintf(form, 48, "new-%sgrouped-%s", wn, sname);
		} else {
			int gi = (int)below(r, GROUPING_LOW);
			put_groups(g, r, num, GROUPING[gi].len, GROUPING[gi].n, sep, w);
			snprintf(form, 48, "shape-%s-%s%s", GROUPING[gi].name, wn, useclassic ? "classic" : "new");
		}
		return 0;
	}
	if (f < 55) { /* a regular shape with a LIST separator */
		int c = pick_nsep(r, cp, 1), gi = (int)below(r, 3);
		if (gi == 2)
			put_groups(g, r, num, l444, 3, cp->nsep[c].b, w);
		else
			put_groups(g, r, num, GROUPING[gi].len, GROUPING[gi].n, cp->nsep[c].b, w);
		snprintf(form, 48, "list-%s-%s", gi == 2 ? "4-4-4" : GROUPING[gi].name, NSEP[c].name);
	} else if (f < 82) { /* another grouping, any separator */
		int gi = GROUPING_LOW + (int)below(r, NGROUPING - GROUPING_LOW);
		struct bs sep;
		if (chance(r, 500)) {
			sep = cp->sep[pick_sep(r, cp)].b;
		} else {
			int c = pick_nsep(r, cp, -1);
			sep = cp->nsep[c].b;
		}
		put_groups(g, r, num, GROUPING[gi].len, GROUPING[gi].n, sep, w);
		snprintf(form, 48, "loose-%s", GROUPING[gi].name);
	} else { /* two or three separators between groups */
		int d = (int)below(r, NDSEP), gi = (int)below(r, 4);
		if (gi >= 2)
			put_groups(g, r, num, l444, 3, cp->dsep[d].b, w);
		else
			put_groups(g, r, num, GROUPING[gi].len, GROUPING[gi].n, cp->dsep[d].b, w);
		snprintf(form, 48, "doubled-%s", DSEP[d].name);
	}
	return 1;
}

/* Words around a number in a form that needs a keyword: never empty and
 * never ending (starting) with a separator, so that the number's run is
 * its own (in a list "NNNN/NNNN、NNNN/NNNN" no one could tell where one
 * number ends). */
static const struct cstr *pick_left_word(struct rng *r, const struct corpus *cp)
{
	unsigned k;
	do
		k = below(r, COUNT(CLEFT));
	while (k == LEFT_NONE);
	return &cp->left[k];
}

static const struct cstr *pick_right_word(struct rng *r, const struct corpus *cp)
{
	unsigned k;
	do
		k = below(r, COUNT(CRIGHT));
	while (k == RIGHT_NONE || CRIGHT[k][0] == ' ' || strcmp(CRIGHT[k], "、") == 0);
	return &cp->right[k];
}

static void put_str(struct gen *g, const char *s);

/* A number with digits one separator away (NEAR_*), such as 2026-10-16
 * 6214-9832-0257, 〒100-0001 6214-9832-0257, No.3 6214 9832 0257 or 6214
 * 9832 0257 1件.  The separator between them is any; when the group next to
 * the number is 4 digits long, the number is written with one kind of
 * separator, not that one (〒100-0001 6214-9832-0257): written 〒100-0001
 * 6214 9832 0257 it could as well be the card number 0001 6214 9832 0257
 * after a 100, which nothing can tell apart, so that is not planted.
 * Returns where the number's first digit is; its FORM is NEAR_NAME. */
static size_t put_near_number(struct gen *g, struct rng *r, const struct corpus *cp, const char *num,
                              char form[48])
{
	static const char date_sep[] = "-./";
	unsigned k = below(r, NNEAR);
	int sep = pick_sep(r, cp), four = k == NEAR_POSTAL_BEFORE || k == NEAR_DATE_AFTER;
	char d[40], f2[48];
	char ds = date_sep[below(r, 3)];
	switch (k) {
	case NEAR_DATE_BEFORE:
	case NEAR_DATE_AFTER:
		snprintf(d, sizeof d, "%04u%c%02u%c%02u", (unsigned)range(r, 1990, 2030), ds, (unsigned)range(r, 1, 12),
		         ds, (unsigned)range(r, 1, 28));
		break;
	case NEAR_POSTAL_BEFORE:
	case NEAR_POSTAL_AFTER:
		snprintf(d, sizeof d, "%03u-%04u", (unsigned)range(r, 100, 999), (unsigned)below(r, 10000));
		break;
	case NEAR_NO_BEFORE:
		snprintf(d, sizeof d, "No.%u", (unsigned)range(r, 1, 99));
		break;
	default: /* a count */
		snprintf(d, sizeof d, "%u", (unsigned)range(r, 1, 999));
		break;
	}
	if (k < NEAR_COUNT_AFTER) {
		if (k == NEAR_POSTAL_BEFORE)
			put(g, cp->decoy[D_POST].b);
		put_str(g, d);
		put(g, cp->sep[sep].b);
	}
	size_t at = g->len;
	put_corpus_number_x(g, r, cp, num, f2, four ? sep : -1);
	if (k >= NEAR_COUNT_AFTER) {
		put(g, cp->sep[sep].b);
		put_str(g, d);
		if (k == NEAR_COUNT_AFTER)
			put(g, PICK(r, cp->count)->b);
	}
	snprintf(form, 48, "%s", NEAR_NAME[k]);
	return at;
}

/* Filler of at most max characters: whole sentences each with its
 * punctuation, then (exact) 、 to make it max.  Returns the characters. */
static unsigned put_filler(struct gen *g, struct rng *r, const struct corpus *cp, unsigned max, int exact)
{
	unsigned used = 0;
	for (int tries = 0; tries < 12 && used < max; tries++) {
		const struct cstr *p = PICK(r, cp->fill), *c = PICK(r, cp->conn);
		if (used + p->chars + c->chars > max)
			continue;
		put(g, p->b);
		put(g, c->b);
		used += p->chars + c->chars;
		if (!exact && chance(r, 400))
			break;
	}
	while (exact && used < max) {
		put(g, cp->conn[CONN_TOUTEN].b);
		used++;
	}
	return used;
}

/* 12 random digits that pass (valid) or fail the checksum. */
static void random_number(struct rng *r, char out[13], int valid)
{
	for (int i = 0; i < 11; i++)
		out[i] = (char)('0' + below(r, 10));
	int cd = spif_mynumber_check_digit(out);
	out[11] = (char)('0' + (valid ? cd : (cd + 1 + (int)below(r, 9)) % 10));
	out[12] = 0;
}

static void put_str(struct gen *g, const char *s)
{
	putmem(g, s, strlen(s));
}

/* One decoy.  valid_ok: checksum-valid ones (order numbers, some dates)
 * may be written; a keyword field never gets one. */
static void put_decoy(struct gen *g, struct rng *r, struct corpus *cp, int valid_ok)
{
	char d[40], form[64];
	const char *kind = "decoy";
	size_t at;
	switch (below(r, valid_ok ? 18 : 13)) {
	case 0:
	case 1: { /* 12 digits with a wrong check digit, in a number's forms,
	           * now and then next to other digits */
		char num[13], f2[48];
		random_number(r, num, 0);
		int newf = chance(r, NEW_PERMILLE);
		put(g, newf ? pick_left_word(r, cp)->b : PICK(r, cp->left)->b);
		at = g->len;
		if (newf)
			put_new_form(g, r, cp, num, f2, (int)below(r, 2));
		else if (chance(r, NEAR_PERMILLE))
			at = put_near_number(g, r, cp, num, f2);
		else
			put_corpus_number(g, r, cp, num, f2);
		snprintf(form, sizeof form, "invalid-%s", f2);
		put(g, newf ? pick_right_word(r, cp)->b : PICK(r, cp->right)->b);
		break;
	}
	case 11:
	case 12: { /* a checksum-valid number inside a longer regular run, which
	            * no rule takes for one even with a keyword near: a table
	            * of digits, groups of 3 or 6 joined alike, an amount */
		char num[13], dg[32];
		static const int l1[13] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, l2[7] = {2, 2, 2, 2, 2, 2, 2},
		                 l3[5] = {3, 3, 3, 3, 3}, l6[3] = {6, 6, 6};
		random_number(r, num, 1);
		unsigned k = below(r, 5), extra = k == 0 ? 1 : k == 1 ? 2 : k == 2 ? 3 : k == 3 ? 6 : 1;
		int tail = chance(r, 500);
		size_t o = 0;
		if (!tail)
			for (unsigned i = 0; i < extra; i++)
				dg[o++] = (char)((k == 4 ? '1' : '0') + below(r, k == 4 ? 9 : 10));
		memcpy(dg + o, num, 12);
		o += 12;
		if (tail)
			for (unsigned i = 0; i < extra; i++)
				dg[o++] = (char)('0' + below(r, 10));
		dg[o] = 0;
		if (k == 4) { /* an amount: 7,ddd,ddd,ddd,ddd円 */
			put(g, cp->decoy[D_SHIHARAI].b);
			at = g->len;
			putc_(g, dg[0]);
			for (int i = 0; i < 4; i++) {
				put(g, cp->tsep[TSEP_COMMA].b);
				putmem(g, dg + 1 + 3 * i, 3);
			}
			put(g, cp->decoy[D_YEN].b);
			strcpy(form, "amount-13");
			break;
		}
		put(g, PICK(r, cp->cvalid)->b);
		at = g->len;
		put_groups(g, r, dg, k == 0 ? l1 : k == 1 ? l2 : k == 2 ? l3 : l6, k == 0 ? 13 : k == 1 ? 7 : k == 2 ? 5 : 3,
		           PICK(r, cp->tsep)->b, 0);
		put(g, PICK(r, cp->cvalid_after)->b);
		snprintf(form, sizeof form, "%s", k == 0 ? "table-1x13" : k == 1 ? "table-2x7" : k == 2 ? "run-3x5" : "run-6x3");
		break;
	}
	case 16:
	case 17: { /* a checksum-valid number in a new form, no keyword near:
	            * one that needs a keyword is no finding (decoy), one that
	            * does not is found low (decoy-valid) */
		char num[13], f2[48];
		random_number(r, num, 1);
		int kwonly = (int)below(r, 2);
		put(g, PICK(r, cp->cvalid)->b);
		at = g->len;
		put_new_form(g, r, cp, num, f2, kwonly);
		put(g, PICK(r, cp->cvalid_after)->b);
		snprintf(form, sizeof form, "valid-%s", f2);
		if (!kwonly)
			kind = "decoy-valid";
		break;
	}
	case 2: /* phone 03-1234-5678 */
		put(g, cp->decoy[D_TEL].b);
		at = g->len;
		snprintf(d, sizeof d, "0%u-%04u-%04u", (unsigned)range(r, 3, 9), (unsigned)below(r, 10000),
		         (unsigned)below(r, 10000));
		put_str(g, d);
		strcpy(form, "phone");
		break;
	case 3: /* mobile 090-1234-5678 */
		put(g, cp->decoy[D_KEITAI].b);
		at = g->len;
		snprintf(d, sizeof d, "0%u0-%04u-%04u", (unsigned)range(r, 7, 9), (unsigned)below(r, 10000),
		         (unsigned)below(r, 10000));
		put_str(g, d);
		strcpy(form, "mobile");
		break;
	case 4: /* postal code 〒123-4567 */
		put(g, cp->decoy[D_POST].b);
		at = g->len;
		snprintf(d, sizeof d, "%03u-%04u", (unsigned)range(r, 100, 999), (unsigned)below(r, 10000));
		put_str(g, d);
		put(g, cp->decoy[D_MADE].b);
		strcpy(form, "postal");
		break;
	case 5: { /* 2026年10月16日 */
		put(g, cp->decoy[D_TODOKE].b);
		at = g->len;
		put_u(g, (uint64_t)range(r, 1990, 2030));
		put(g, cp->decoy[D_NEN].b);
		put_u(g, (uint64_t)range(r, 1, 12));
		put(g, cp->decoy[D_TSUKI].b);
		put_u(g, (uint64_t)range(r, 1, 28));
		put(g, cp->decoy[D_HI].b);
		strcpy(form, "date-kanji");
		break;
	}
	case 6: /* 支払金額 1,234,567円 */
		put(g, cp->decoy[D_SHIHARAI].b);
		at = g->len;
		put_comma(g, (uint64_t)range(r, 1000, 99999999));
		put(g, cp->decoy[D_YEN].b);
		strcpy(form, "amount");
		break;
	case 7: { /* 13 digits, 12 of them (first or last) a checksum-valid number */
		char num[13];
		random_number(r, num, 1);
		put(g, cp->decoy[D_SEIRI].b);
		at = g->len;
		int lead = chance(r, 500);
		if (lead)
			putc_(g, (char)('1' + below(r, 9)));
		putmem(g, num, 12);
		if (!lead)
			putc_(g, (char)('0' + below(r, 10)));
		strcpy(form, "digits13");
		break;
	}
	case 8:
	case 9: { /* a card number 4-4-4-4, with separators or none, whose first
	           * or last 12 digits pass the checksum */
		char num[13], d16[17];
		int s = pick_sep(r, cp), plain = chance(r, 300);
		random_number(r, num, 1);
		if (chance(r, 500))
			snprintf(d16, sizeof d16, "%s%04u", num, (unsigned)below(r, 10000));
		else
			snprintf(d16, sizeof d16, "%04u%s", (unsigned)range(r, 3000, 5999), num);
		put(g, cp->decoy[D_CARD].b);
		at = g->len;
		for (int k = 0; k < 4; k++) {
			if (k && !plain)
				put(g, cp->sep[s].b);
			putmem(g, d16 + 4 * k, 4);
		}
		if (plain)
			strcpy(form, "card16-plain");
		else
			snprintf(form, sizeof form, "card16-%s", CSEP[s][1]);
		break;
	}
	case 10: { /* a date and a serial: 202610160001 or 2026-1016-0001 */
		char num[13];
		int grouped = chance(r, 300);
		for (int tries = 0;; tries++) {
			snprintf(num, sizeof num, "%04u%02u%02u%04u", (unsigned)range(r, 2019, 2030),
			         (unsigned)range(r, 1, 12), (unsigned)range(r, 1, 28), (unsigned)below(r, 10000));
			if (valid_ok || !spif_mynumber_valid(num, 12))
				break;
		}
		put(g, cp->decoy[D_UKETSUKE].b);
		at = g->len;
		if (grouped) {
			putmem(g, num, 4);
			putc_(g, '-');
			putmem(g, num + 4, 4);
			putc_(g, '-');
			putmem(g, num + 8, 4);
		} else {
			putmem(g, num, 12);
		}
		strcpy(form, grouped ? "date-serial-grouped" : "date-serial");
		if (spif_mynumber_valid(num, 12))
			kind = "decoy-valid";
		break;
	}
	default: { /* a checksum-valid order number, no keyword near: 13, 14, 15 */
		char num[13];
		random_number(r, num, 1);
		unsigned w = below(r, 3);
		put(g, cp->decoy[w == 0 ? D_JUCHU : w == 1 ? D_DENPYO : D_TOIAWASE].b);
		at = g->len;
		if (w == 2) {
			putmem(g, num, 4);
			putc_(g, '-');
			putmem(g, num + 4, 4);
			putc_(g, '-');
			putmem(g, num + 8, 4);
			strcpy(form, "order-number-grouped");
		} else {
			putmem(g, num, 12);
			strcpy(form, "order-number");
		}
		kind = "decoy-valid";
		break;
	}
	}
	label(g, cp, at, kind, form, "none");
	cp->decoys++;
	cp->decoys_valid += strcmp(kind, "decoy-valid") == 0;
}

/* One planted number; kw: with a keyword phrase within KW_REACH
 * characters; far: the keyword phrase just out of reach (KW_REACH + 1
 * characters from the number), so it counts as without. */
static void put_planted(struct gen *g, struct rng *r, struct corpus *cp, int kw, int far)
{
	char num[13], form[48];
	make_mynumber(g->perm_key, cp->row * SLOTS + 1 + cp->slot++ % (SLOTS - 1), num);
	cp->numbers++;
	/* a new form (NSEP, GROUPING, DSEP); one that needs a keyword only
	 * where one is near */
	int newf = chance(r, NEW_PERMILLE), kwonly = newf && kw && !far && chance(r, 600);
	if (!kw) {
		put(g, PICK(r, cp->left)->b);
		size_t at = g->len;
		if (chance(r, NEAR_PERMILLE))
			at = put_near_number(g, r, cp, num, form);
		else if (newf)
			put_new_form(g, r, cp, num, form, 0);
		else
			put_corpus_number(g, r, cp, num, form);
		put(g, PICK(r, cp->right)->b);
		label(g, cp, at, "number", form, "none");
		cp->without_kw++;
		return;
	}
	if (far)
		cp->without_kw++;
	else
		cp->with_kw++;
	/* how far: mostly touching, sometimes far, now and then exactly at the
	 * edge of the window (or, far, just past it) */
	unsigned how = far ? 99 : below(r, 100);
	if (chance(r, 650)) { /* keyword phrase first */
		const struct cstr *k = far ? PICK(r, cp->kwpure) : PICK(r, cp->kwb);
		const struct cstr *l = how < 60 ? &cp->left[LEFT_NONE] : kwonly ? pick_left_word(r, cp) : PICK(r, cp->left);
		unsigned budget = KW_REACH + (unsigned)far - k->chars - l->chars;
		size_t kstart = g->len;
		put(g, k->b);
		if (how >= 50)
			put_filler(g, r, cp, how < 80 ? (budget < 60 ? budget : 60) : how < 95 ? below(r, budget + 1) : budget,
			           how >= 95);
		put(g, l->b);
		size_t at = g->len;
		if (out_chars(g, kstart, at) != (far ? KW_REACH + 1 : out_chars(g, kstart, at)) ||
		    out_chars(g, kstart, at) > KW_REACH + (unsigned)far)
			die(g, SPIF_EX_SOFTWARE, "internal: keyword planted at the wrong distance");
		if (newf)
			put_new_form(g, r, cp, num, form, kwonly);
		else if (how < 50 && !far && chance(r, NEAR_PERMILLE)) /* touching: a few digits more stay near */
			at = put_near_number(g, r, cp, num, form);
		else
			put_corpus_number(g, r, cp, num, form);
		put(g, kwonly ? pick_right_word(r, cp)->b : PICK(r, cp->right)->b);
		label(g, cp, at, "number", form, far ? "none" : "keyword");
	} else { /* keyword phrase after */
		const struct cstr *k = far ? PICK(r, cp->kwpure) : PICK(r, cp->kwa);
		const struct cstr *rt = how < 60 ? &cp->right[RIGHT_NONE] : kwonly ? pick_right_word(r, cp) : PICK(r, cp->right);
		unsigned budget = KW_REACH + (unsigned)far - k->chars - rt->chars;
		put(g, kwonly ? pick_left_word(r, cp)->b : PICK(r, cp->left)->b);
		size_t at = g->len;
		if (newf)
			put_new_form(g, r, cp, num, form, kwonly);
		else if (how < 50 && !far && chance(r, NEAR_PERMILLE))
			at = put_near_number(g, r, cp, num, form);
		else
			put_corpus_number(g, r, cp, num, form);
		size_t end = g->len;
		put(g, rt->b);
		if (how >= 50)
			put_filler(g, r, cp, how < 80 ? (budget < 60 ? budget : 60) : how < 95 ? below(r, budget + 1) : budget,
			           how >= 95);
		put(g, k->b);
		if (out_chars(g, end, g->len) != (far ? KW_REACH + 1 : out_chars(g, end, g->len)) ||
		    out_chars(g, end, g->len) > KW_REACH + (unsigned)far)
			die(g, SPIF_EX_SOFTWARE, "internal: keyword planted at the wrong distance");
		label(g, cp, at, "number", form, far ? "none" : "keyword");
	}
}

/* A free-text field: filler, and up to three items, numbers or decoys.
 * A keyword field with one item makes it, now and then, a number whose
 * keyword is just out of reach. */
static void put_corpus_text(struct gen *g, struct rng *r, struct corpus *cp)
{
	int kw = chance(r, 500);
	unsigned k = below(r, 100), items = k < 25 ? 0 : k < 60 ? 1 : k < 88 ? 2 : 3;
	if (chance(r, 350))
		put_filler(g, r, cp, 40, 0);
	if (kw && items == 1 && chance(r, 100)) {
		put_planted(g, r, cp, 1, 1);
		return;
	}
	for (unsigned i = 0; i < items; i++) {
		if (i)
			put(g, PICK(r, cp->conn)->b);
		if (chance(r, 450))
			put_planted(g, r, cp, kw, 0);
		else
			put_decoy(g, r, cp, !kw);
	}
	if (items == 0 || chance(r, 300)) {
		if (items)
			put(g, PICK(r, cp->conn)->b);
		put_filler(g, r, cp, 60, 0);
	}
}

static void write_corpus_row(struct gen *g, struct corpus *cp, uint64_t row)
{
	struct rng r = rng_for(g->o.seed, TAG_CORPUS, row);
	struct person ps;
	make_person(g, row, &ps);
	cp->row = row;
	cp->slot = 0;
	for (size_t i = 0; i < g->ncols; i++) {
		const struct coldef *cd = g->cols[i];
		if (i)
			putc_(g, ',');
		cp->field = cd->name;
		cp->fstart = g->len;
		switch (cd->id) {
		case C_JUKYU_NO: put_pad(g, row + 1, 7); break;
		case C_NAME: put_name(g, &ps.nm); break;
		case C_NUM: {
			char form[48];
			if (chance(&r, NEW_PERMILLE))
				put_new_form(g, &r, cp, ps.num, form, (int)below(&r, 2));
			else
				put_corpus_number(g, &r, cp, ps.num, form);
			csv_fix(g, cp->fstart); /* a comma or a line break in it */
			label(g, cp, cp->fstart, "number", form, "field");
			cp->numbers++;
			cp->in_field++;
			break;
		}
		default:
			put_corpus_text(g, &r, cp);
			csv_fix(g, cp->fstart);
			break;
		}
	}
	put(g, g->eol);
}

/* ------------------------------------------------------------------ */
/* Command line */

static const char USAGE[] =
	"Usage: spif-gen [OPTION]...\n"
	"Write a realistic SYNTHETIC specific personal information file (a\n"
	"給与支払報告書-like table holding Individual Numbers) for tests and benchmarks.\n"
	"Everything is made up and deterministic for a seed; data goes to standard\n"
	"output (or -o FILE), the one summary line to standard error.\n"
	"\n"
	"  --rows N            data rows (default 1000); CSV/TSV start with a header row\n"
	"  --seed S            seed, an unsigned integer (default 1)\n"
	"  --encoding E        utf-8 (default), utf-8-bom, cp932, euc-jp.  CP932 is\n"
	"                      written as Windows writes it (髙 FBFC, 﨑 FAB1, ㈱ 878A);\n"
	"                      EUC-JP gets 高 崎 （株） instead of 髙 﨑 ㈱\n"
	"  --eol E             crlf or lf: the record separator (default crlf for\n"
	"                      csv/tsv, lf for ndjson); a line break inside a CSV\n"
	"                      field is always LF, as a spreadsheet writes it\n"
	"  --format F          csv (default; fields quoted only when they hold a comma,\n"
	"                      quote or line break), tsv (no quoting; values never hold\n"
	"                      a tab or line break), ndjson (UTF-8 only; one object a\n"
	"                      line, every value a string, keys in column order)\n"
	"  --columns C         wide (default): 105 columns modelled on the eLTAX\n"
	"                      給与支払報告書 record plus the PIA record items;\n"
	"                      narrow: 受給者番号 氏名 フリガナ 生年月日 住所\n"
	"                      受給者の個人番号 扶養親族1_個人番号 摘要欄\n"
	"  --persons N         distinct 受給者, 1..ROWS (default ROWS).  Rows 1..N are\n"
	"                      persons 1..N; each later row repeats one of them (same\n"
	"                      number, name, birth date, address, spouse, dependants)\n"
	"  --forms F           plain (default): number fields hold 12 ASCII digits;\n"
	"                      mixed: about 45% are full-width digits or 4-4-4 groups\n"
	"                      split by '-', ' ', U+3000, '－' or 'ー' (still valid)\n"
	"  --markers           add a last column 照合用マーカー, unique per row:\n"
	"                      MARKER-<seed>-<row>-<16 hex digits, every 4th a letter>\n"
	"  --invalid-row R     data row R (1-based, header not counted) gets a bad\n"
	"                      受給者の個人番号, of the kind --invalid-kind says:\n"
	"  --invalid-kind K    check (default): 12 digits, wrong check digit;\n"
	"                      letters: 4th and 9th digits become O and I;\n"
	"                      length: first digit dropped, 11 digits\n"
	"  --gaiji             about 6% of surnames hold a user-area 外字 (U+E000..U+E757,\n"
	"                      CP932 F040..F9FC); utf-8, utf-8-bom or cp932 only\n"
	"  --text-numbers      摘要欄 of about 25% of rows embeds, in free text, a number\n"
	"                      from the same row (the 受給者's, or 扶養親族1's), e.g.\n"
	"                      前職分個人番号NNNNNNNNNNNNを含む, マイナンバー：ＮＮＮＮ－ＮＮＮＮ－ＮＮＮＮ\n"
	"  --corpus            a labelled corpus for scoring the number detector instead:\n"
	"                      受給者番号 氏名 受給者の個人番号 摘要欄 備考, CSV (utf-8,\n"
	"                      utf-8-bom or cp932); numbers in every written form (any\n"
	"                      dash, dot, space, underscore, slash, comma or line break\n"
	"                      between groups, groupings other than 4-4-4, doubled\n"
	"                      separators) and decoys (invalid check digits, checksum-\n"
	"                      valid order numbers, dates, tables and amounts, phones,\n"
	"                      postal codes, 13 and 16 digits) in the free text, some one\n"
	"                      separator away from a date, a postal code or a count; see\n"
	"                      tests/gen/README\n"
	"  --labels FILE       with --corpus: one line per planted item, tab-separated:\n"
	"                      ROW FIELD CHAR_OFFSET KIND FORM CONTEXT (mode 0600)\n"
	"  -o FILE             write to FILE (mode 0600) instead of standard output\n"
	"  -h, --help          show this help\n"
	"\n"
	"Number fields are the columns whose name contains 個人番号.  Each is empty\n"
	"or holds a checksum-valid number, except on --invalid-row; 受給者の個人番号\n"
	"is never empty.  Filled in for about 39% of persons: 控除対象配偶者; 35%,\n"
	"20%, 8%, 3%: 扶養親族1..4; 25%, 12%, 4%: 16歳未満扶養親族1..3.\n"
	"提出義務者の個人番号又は法人番号 holds a valid 13-digit 法人番号.\n"
	"\n"
	"At the end, on standard error:\n"
	"  spif-gen: ROWS rows, P distinct individual numbers\n"
	"P is exactly the number of distinct valid 12-digit numbers in all number\n"
	"fields together, whatever their written form.  Every person (受給者,\n"
	"spouse, dependant) has a number of their own, so P is the sum, over the\n"
	"distinct 受給者 (N of --persons), of 1 + the spouse and dependants shown in\n"
	"the chosen columns (wide: all 8 dependant fields; narrow: 扶養親族1 only),\n"
	"minus 1 if the --invalid-row 受給者 appears in no other row.  Numbers in\n"
	"摘要欄 are always ones already in the row and add nothing.\n"
	"\n"
	"Stable: the same seed and options give the same bytes; with the default\n"
	"--persons, fewer --rows give a prefix of more rows; --forms, --markers,\n"
	"--text-numbers and --gaiji change only what they are about.\n"
	"\n"
	"Exit: 0 ok, 64 usage, 73 cannot create FILE, 74 write error.\n";

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		die(NULL, SPIF_EX_USAGE, "%s %s: not a number", opt, s);
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		die(NULL, SPIF_EX_USAGE, "%s %s: not a number", opt, s);
	if (v < lo || v > hi)
		die(NULL, SPIF_EX_USAGE, "%s %s: out of range (%" PRIu64 "..%" PRIu64 ")", opt, s, lo, hi);
	return (uint64_t)v;
}

enum {
	O_ROWS = 256, O_SEED, O_ENCODING, O_EOL, O_FORMAT, O_COLUMNS, O_PERSONS, O_FORMS, O_MARKERS,
	O_INVROW, O_INVKIND, O_GAIJI, O_TEXTNUM, O_CORPUS, O_LABELS,
};

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"rows", required_argument, NULL, O_ROWS},
		{"seed", required_argument, NULL, O_SEED},
		{"encoding", required_argument, NULL, O_ENCODING},
		{"eol", required_argument, NULL, O_EOL},
		{"format", required_argument, NULL, O_FORMAT},
		{"columns", required_argument, NULL, O_COLUMNS},
		{"persons", required_argument, NULL, O_PERSONS},
		{"forms", required_argument, NULL, O_FORMS},
		{"markers", no_argument, NULL, O_MARKERS},
		{"invalid-row", required_argument, NULL, O_INVROW},
		{"invalid-kind", required_argument, NULL, O_INVKIND},
		{"gaiji", no_argument, NULL, O_GAIJI},
		{"text-numbers", no_argument, NULL, O_TEXTNUM},
		{"corpus", no_argument, NULL, O_CORPUS},
		{"labels", required_argument, NULL, O_LABELS},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof *o);
	o->rows = 1000;
	o->seed = 1;
	o->enc = E_UTF8;
	o->fmt = FMT_CSV;
	o->eol_crlf = 1;
	o->invalid_kind = INV_CHECK;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		if (!o->layout_opt) {
			switch (ch) {
			case O_COLUMNS: o->layout_opt = "--columns"; break;
			case O_PERSONS: o->layout_opt = "--persons"; break;
			case O_FORMS: o->layout_opt = "--forms"; break;
			case O_MARKERS: o->layout_opt = "--markers"; break;
			case O_INVROW: o->layout_opt = "--invalid-row"; break;
			case O_GAIJI: o->layout_opt = "--gaiji"; break;
			case O_TEXTNUM: o->layout_opt = "--text-numbers"; break;
			}
		}
		switch (ch) {
		case O_ROWS: o->rows = parse_u64("--rows", optarg, 0, 1000000000000ull); break;
		case O_SEED: o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX); break;
		case O_ENCODING:
			if (!strcmp(optarg, "utf-8") || !strcmp(optarg, "utf8"))
				o->enc = E_UTF8;
			else if (!strcmp(optarg, "utf-8-bom"))
				o->enc = E_UTF8_BOM;
			else if (!strcmp(optarg, "cp932") || !strcmp(optarg, "windows-31j"))
				o->enc = E_CP932;
			else if (!strcmp(optarg, "euc-jp") || !strcmp(optarg, "eucjp"))
				o->enc = E_EUCJP;
			else
				die(NULL, SPIF_EX_USAGE, "--encoding %s: unknown (utf-8, utf-8-bom, cp932, euc-jp)", optarg);
			break;
		case O_EOL:
			if (!strcmp(optarg, "crlf"))
				o->eol_crlf = 1;
			else if (!strcmp(optarg, "lf"))
				o->eol_crlf = 0;
			else
				die(NULL, SPIF_EX_USAGE, "--eol %s: unknown (crlf, lf)", optarg);
			o->eol_set = 1;
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "csv"))
				o->fmt = FMT_CSV;
			else if (!strcmp(optarg, "tsv"))
				o->fmt = FMT_TSV;
			else if (!strcmp(optarg, "ndjson"))
				o->fmt = FMT_NDJSON;
			else
				die(NULL, SPIF_EX_USAGE, "--format %s: unknown (csv, tsv, ndjson)", optarg);
			break;
		case O_COLUMNS:
			if (!strcmp(optarg, "wide"))
				o->narrow = 0;
			else if (!strcmp(optarg, "narrow"))
				o->narrow = 1;
			else
				die(NULL, SPIF_EX_USAGE, "--columns %s: unknown (wide, narrow)", optarg);
			break;
		case O_PERSONS:
			o->persons = parse_u64("--persons", optarg, 0, 10000000000ull);
			o->persons_set = 1;
			break;
		case O_FORMS:
			if (!strcmp(optarg, "plain"))
				o->mixed = 0;
			else if (!strcmp(optarg, "mixed"))
				o->mixed = 1;
			else
				die(NULL, SPIF_EX_USAGE, "--forms %s: unknown (plain, mixed)", optarg);
			break;
		case O_MARKERS: o->markers = 1; break;
		case O_INVROW: o->invalid_row = parse_u64("--invalid-row", optarg, 1, UINT64_MAX); break;
		case O_INVKIND:
			if (!strcmp(optarg, "check"))
				o->invalid_kind = INV_CHECK;
			else if (!strcmp(optarg, "letters"))
				o->invalid_kind = INV_LETTERS;
			else if (!strcmp(optarg, "length"))
				o->invalid_kind = INV_LENGTH;
			else
				die(NULL, SPIF_EX_USAGE, "--invalid-kind %s: unknown (check, letters, length)", optarg);
			o->invalid_kind_set = 1;
			break;
		case O_GAIJI: o->gaiji = 1; break;
		case O_TEXTNUM: o->text_numbers = 1; break;
		case O_CORPUS: o->corpus = 1; break;
		case O_LABELS: o->labels = optarg; break;
		case 'o': o->out = optarg; break;
		case 'h': fputs(USAGE, stdout); exit(0);
		case ':': die(NULL, SPIF_EX_USAGE, "%s: needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				die(NULL, SPIF_EX_USAGE, "-%c: unknown option (see --help)", optopt);
			die(NULL, SPIF_EX_USAGE, "%s: unknown option (see --help)", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die(NULL, SPIF_EX_USAGE, "%s: unexpected argument (see --help)", argv[optind]);
	if (!o->persons_set)
		o->persons = o->rows;
	if (o->persons > o->rows || (o->persons == 0 && o->rows > 0))
		die(NULL, SPIF_EX_USAGE, "--persons %" PRIu64 ": must be 1..%" PRIu64 " (the rows)", o->persons,
		    o->rows);
	if (o->invalid_row > o->rows)
		die(NULL, SPIF_EX_USAGE, "--invalid-row %" PRIu64 ": there are only %" PRIu64 " rows", o->invalid_row,
		    o->rows);
	if (o->invalid_kind_set && !o->invalid_row)
		die(NULL, SPIF_EX_USAGE, "--invalid-kind needs --invalid-row");
	if (o->gaiji && o->enc == E_EUCJP)
		die(NULL, SPIF_EX_USAGE, "--gaiji: EUC-JP has no user-area 外字 (use utf-8 or cp932)");
	if (o->fmt == FMT_NDJSON && o->enc != E_UTF8)
		die(NULL, SPIF_EX_USAGE, "--format ndjson: NDJSON is UTF-8 only (no --encoding %s)",
		    o->enc == E_UTF8_BOM ? "utf-8-bom" : o->enc == E_CP932 ? "cp932" : "euc-jp");
	if (o->fmt == FMT_NDJSON && !o->eol_set)
		o->eol_crlf = 0;
	if (o->labels && !o->corpus)
		die(NULL, SPIF_EX_USAGE, "--labels needs --corpus");
	if (o->corpus) {
		if (o->layout_opt)
			die(NULL, SPIF_EX_USAGE, "--corpus has its own layout (no %s)", o->layout_opt);
		if (o->fmt != FMT_CSV)
			die(NULL, SPIF_EX_USAGE, "--corpus writes CSV only (no --format %s)",
			    o->fmt == FMT_TSV ? "tsv" : "ndjson");
		if (o->enc == E_EUCJP)
			die(NULL, SPIF_EX_USAGE, "--corpus: utf-8, utf-8-bom or cp932 (no --encoding euc-jp)");
	}
}

static void cleanup(struct gen *g)
{
	for (size_t i = 0; i < g->nallocs; i++)
		free(g->allocs[i]);
	free(g->allocs);
	g->allocs = NULL;
	g->nallocs = 0;
	free(g->buf);
	g->buf = NULL;
	free(g->scratch);
	g->scratch = NULL;
	if (g->to != (iconv_t)-1 && g->to)
		iconv_close(g->to);
	if (g->from != (iconv_t)-1 && g->from)
		iconv_close(g->from);
	g->to = g->from = (iconv_t)-1;
	if (g->fd > 2)
		close(g->fd);
	g->fd = -1;
	if (g->labels)
		fclose(g->labels);
	g->labels = NULL;
}

int main(int argc, char **argv)
{
	struct gen gs;
	struct gen *g = &gs;
	memset(g, 0, sizeof *g);
	g->to = g->from = (iconv_t)-1;
	g->fd = -1;
	parse_args(argc, argv, &g->o);

	const struct coldef *set = g->o.corpus ? CORPUS_COLS : g->o.narrow ? NARROW : WIDE;
	size_t nset = g->o.corpus ? NCORPUS : g->o.narrow ? NNARROW : NWIDE;
	for (size_t i = 0; i < nset; i++)
		g->cols[g->ncols++] = &set[i];
	if (g->o.markers)
		g->cols[g->ncols++] = &MARKER_COL;
	g->csv = g->o.fmt == FMT_CSV;
	g->tsv = g->o.fmt == FMT_TSV;
	g->json = g->o.fmt == FMT_NDJSON;
	for (int i = 0; i < ROUNDS; i++)
		g->perm_key[i] = mix64(mix64(g->o.seed ^ TAG_PERM) + (uint64_t)i);

	init_tables(g);
	g->cap = BUF_CAP;
	g->buf = xmalloc(g, g->cap);
	g->scratch = xmalloc(g, ROW_MAX);

	if (g->o.out) {
		g->outname = g->o.out;
		g->fd = open(g->o.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (g->fd < 0) {
			int e = errno;
			die(g, SPIF_EX_CANTCREAT, "%s: cannot create: %s", g->o.out,
			    strerror(e));
		}
	} else {
		g->outname = "(stdout)";
		g->fd = 1;
	}

	if (g->o.enc == E_UTF8_BOM)
		putmem(g, "\xEF\xBB\xBF", 3);
	write_header(g);

	if (g->o.corpus) {
		struct corpus cp;
		init_corpus(g, &cp);
		if (g->o.labels) {
			int lfd = open(g->o.labels, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (lfd < 0 || !(g->labels = fdopen(lfd, "w"))) {
				int e = errno;
				if (lfd >= 0)
					close(lfd);
				die(g, SPIF_EX_CANTCREAT, "%s: cannot create: %s", g->o.labels, strerror(e));
			}
			fprintf(g->labels, "# spif-gen --corpus --seed %" PRIu64 " --rows %" PRIu64
			        ": ROW FIELD CHAR_OFFSET KIND FORM CONTEXT (ROW: the header is row 1)\n",
			        g->o.seed, g->o.rows);
		}
		for (uint64_t row = 0; row < g->o.rows; row++) {
			write_corpus_row(g, &cp, row);
			if (g->len > g->cap - ROW_MAX)
				flush_out(g);
		}
		flush_out(g);
		if (g->fd > 2 && close(g->fd) < 0) {
			int e = errno;
			g->fd = -1;
			die(g, SPIF_EX_IOERR, "%s: close: %s", g->outname, strerror(e));
		}
		g->fd = -1;
		if (g->labels) {
			int bad = ferror(g->labels);
			bad |= fclose(g->labels) != 0;
			g->labels = NULL;
			if (bad)
				die(g, SPIF_EX_IOERR, "%s: write error", g->o.labels);
		}
		cleanup(g);
		fprintf(stderr, PROG ": %" PRIu64 " rows, %" PRIu64 " planted individual numbers (%" PRIu64
		        " in the number field, %" PRIu64 " with a keyword, %" PRIu64 " without), %" PRIu64
		        " decoys (%" PRIu64 " checksum-valid)\n",
		        g->o.rows, cp.numbers, cp.in_field, cp.with_kw, cp.without_kw, cp.decoys, cp.decoys_valid);
		return 0;
	}

	uint64_t inv_person = g->o.invalid_row ? person_of_row(g, g->o.invalid_row - 1) : 0;
	int inv_elsewhere = 0;
	uint64_t distinct = 0;
	struct rowctx x;
	for (uint64_t row = 0; row < g->o.rows; row++) {
		uint64_t p = person_of_row(g, row);
		memset(&x, 0, sizeof x);
		x.row = row;
		make_person(g, p, &x.ps);
		make_company(g, company_of_row(g, row), &x.co);
		x.invalid = g->o.invalid_row && row == g->o.invalid_row - 1;
		if (row < g->o.persons) /* the first row of person p */
			distinct += (uint64_t)numbers_shown(g, &x.ps);
		if (g->o.invalid_row && !x.invalid && p == inv_person)
			inv_elsewhere = 1;
		write_row(g, &x);
		if (g->len > g->cap - ROW_MAX)
			flush_out(g);
	}
	if (g->o.invalid_row && !inv_elsewhere)
		distinct--;
	flush_out(g);
	if (g->fd > 2 && close(g->fd) < 0) {
		int e = errno;
		g->fd = -1;
		die(g, SPIF_EX_IOERR, "%s: close: %s", g->outname, strerror(e));
	}
	g->fd = -1;
	cleanup(g);
	fprintf(stderr, PROG ": %" PRIu64 " rows, %" PRIu64 " distinct individual numbers\n", g->o.rows, distinct);
	return 0;
}
