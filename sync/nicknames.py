"""Nickname and given-name data for matching (English and Spanish, LA County signers).

All keys and values are in ``normalize_name`` form: casefolded, no accents, no punctuation.

Three tables, because a nickname can be *certain* or only *plausible*:

- ``NICKNAMES``: nickname or spelling variant -> one formal name. Used by
  ``canonical_first_name`` and therefore by the exact blind-index keys, so it only holds
  mappings that are safe to treat as "the same name" (bob -> robert, pepe -> jose).
- ``AMBIGUOUS_NICKNAMES``: nicknames that stand for several formal names, often of different
  sexes (chris: christopher / christina; beto: alberto / roberto / humberto). These are NOT
  canonicalized (a key must never merge Christopher with Christina); the scorer treats them as
  "plausibly the same name" and answers at most ``possible_duplicate``.
- ``KNOWN_GIVEN_NAMES``: common given names. When two first names are both known and differ
  (Mario / Maria, Michael / Michelle, Francis / Frances) they are different names, not a typo:
  twins and siblings at one address must stay apart.
"""

from __future__ import annotations

NICKNAMES: dict[str, str] = {
    # --- English -------------------------------------------------------------------------
    "abe": "abraham",
    "abby": "abigail", "abbie": "abigail",
    "andy": "andrew",
    "tony": "anthony",
    "archie": "archibald",
    "art": "arthur", "artie": "arthur",
    "barb": "barbara", "barbie": "barbara", "babs": "barbara",
    "ben": "benjamin", "benny": "benjamin", "benji": "benjamin",
    "bernie": "bernard",
    "bob": "robert", "bobby": "robert", "rob": "robert", "robbie": "robert", "robby": "robert",
    "robt": "robert",
    "brad": "bradley",
    "cathy": "catherine", "kathy": "catherine", "kate": "catherine", "katie": "catherine",
    "katherine": "catherine", "kathryn": "catherine", "kat": "catherine",
    "kitty": "catherine", "cate": "catherine",
    "charlie": "charles", "chuck": "charles", "chas": "charles", "chaz": "charles",
    "cindy": "cynthia",
    "cliff": "clifford",
    "dan": "daniel", "danny": "daniel",
    "dave": "david", "davy": "david",
    "deb": "deborah", "debbie": "deborah", "debby": "deborah", "debra": "deborah",
    "dick": "richard", "rick": "richard", "ricky": "richard", "rich": "richard", "richie": "richard",
    "don": "donald", "donnie": "donald",
    "doug": "douglas",
    "ed": "edward", "eddie": "edward", "eddy": "edward",
    "ned": "edward",
    "liz": "elizabeth", "lizzie": "elizabeth", "beth": "elizabeth", "betty": "elizabeth",
    "betsy": "elizabeth", "eliza": "elizabeth", "libby": "elizabeth", "bess": "elizabeth",
    "elisabeth": "elizabeth", "lisbeth": "elizabeth",
    "gene": "eugene",
    "greg": "gregory",
    "hank": "henry",
    "herb": "herbert",
    "jim": "james", "jimmy": "james", "jas": "james",
    "jeff": "jeffrey", "jeffery": "jeffrey",
    "jen": "jennifer", "jenny": "jennifer", "jenn": "jennifer", "jennie": "jennifer",
    "jon": "john", "johnny": "john", "jno": "john",
    "joe": "joseph", "joey": "joseph", "jos": "joseph",
    "josh": "joshua",
    "judy": "judith",
    "ken": "kenneth", "kenny": "kenneth",
    "larry": "lawrence", "laurence": "lawrence",
    "len": "leonard", "lenny": "leonard",
    "maggie": "margaret", "meg": "margaret", "peggy": "margaret", "marge": "margaret",
    "margie": "margaret", "peg": "margaret",
    "matt": "matthew", "matty": "matthew", "mathew": "matthew",
    "mike": "michael", "mikey": "michael", "mick": "michael", "mickey": "michael",
    "molly": "mary", "polly": "mary", "mamie": "mary",
    "nate": "nathaniel",
    "nick": "nicholas", "nicky": "nicholas", "nicolas": "nicholas",
    "pam": "pamela",
    "patty": "patricia", "patsy": "patricia", "trish": "patricia", "tricia": "patricia",
    "pete": "peter",
    "phil": "philip", "phillip": "philip",
    "ray": "raymond",
    "ron": "ronald", "ronnie": "ronald",
    "russ": "russell",
    "sara": "sarah", "sally": "sarah",
    "steve": "steven", "stevie": "steven", "stephen": "steven",
    "sue": "susan", "susie": "susan", "suzy": "susan",
    "tom": "thomas", "tommy": "thomas",
    "tim": "timothy", "timmy": "timothy",
    "vicky": "victoria", "vickie": "victoria", "tori": "victoria",
    "walt": "walter", "wally": "walter",
    "bill": "william", "billy": "william", "will": "william", "willie": "william",
    "wm": "william",
    "zach": "zachary", "zack": "zachary",
    "bryan": "brian",
    "erik": "eric",
    "allen": "alan", "allan": "alan",
    "marc": "mark",
    "karl": "carl",
    "geoff": "geoffrey",
    "becky": "rebecca", "becca": "rebecca",
    "dot": "dorothy", "dottie": "dorothy",
    "ginny": "virginia",
    "annie": "ann", "anne": "ann",
    "hal": "harold",
    "stan": "stanley",
    # --- Spanish -------------------------------------------------------------------------
    "pepe": "jose", "pepito": "jose", "cheo": "jose", "chepe": "jose",
    "paco": "francisco", "pancho": "francisco", "curro": "francisco", "panchito": "francisco",
    "paquito": "francisco", "kiko": "francisco",
    "paquita": "francisca", "pancha": "francisca", "panchita": "francisca",
    "lupe": "guadalupe", "lupita": "guadalupe",
    "chuy": "jesus", "chucho": "jesus", "chuyito": "jesus",
    "memo": "guillermo", "guille": "guillermo",
    "nacho": "ignacio",
    "lalo": "eduardo",
    "tono": "antonio", "tonio": "antonio", "toncho": "antonio",
    "chema": "jose maria",
    "chava": "salvador", "chavo": "salvador",
    "concha": "concepcion", "conchita": "concepcion", "conchi": "concepcion",
    "lola": "dolores", "lolita": "dolores", "loli": "dolores",
    "pili": "pilar",
    "charo": "rosario", "chayo": "rosario",
    "chelo": "consuelo",
    "rafa": "rafael",
    "quique": "enrique", "kike": "enrique",
    "nando": "fernando",
    "pepa": "josefa", "pepita": "josefa", "chepa": "josefa",
    "mayte": "maria teresa", "maite": "maria teresa",
    "lencho": "lorenzo",
    "goyo": "gregorio",
    "tere": "teresa", "techa": "teresa",
    "chabela": "isabel", "chabelita": "isabel",
    "chela": "graciela",
    "juancho": "juan", "juanito": "juan",
    "meche": "mercedes",
    "checo": "sergio",
    "poncho": "alfonso",
    "fito": "adolfo",
    "licha": "alicia",
    "lety": "leticia", "leti": "leticia",
    "paty": "patricia",
    "gaby": "gabriela", "gabi": "gabriela",
    "chente": "vicente",
    "tavo": "gustavo",
    "moncho": "ramon",
    "manolo": "manuel", "manolito": "manuel",
    "santi": "santiago",
    "alejo": "alejandro",
    "chencho": "crescencio",
    "beba": "beatriz", "bety": "beatriz",
    "rosy": "rosa",
    "yoli": "yolanda",
    "vero": "veronica",
    "sole": "soledad",
    "nico": "nicholas",
    "chuchi": "jesus",
    "cuca": "refugio",
    "nati": "natividad",
    "trini": "trinidad",
    "pedrito": "pedro",
    "luchita": "luz",
    "migue": "miguel",
    "rodo": "rodolfo",
    "cata": "catalina",
    "lore": "lorena",
    "ceci": "cecilia",
    "susi": "susana",
    "sergito": "sergio",
}

AMBIGUOUS_NICKNAMES: dict[str, tuple[str, ...]] = {
    "al": ("albert", "alfred", "alan", "alberto", "alfredo"),
    "alex": ("alexander", "alexandra", "alejandro", "alejandra"),
    "ale": ("alejandro", "alejandra"),
    "chris": ("christopher", "christina", "christine", "cristina", "cristobal"),
    "sam": ("samuel", "samantha"),
    "pat": ("patrick", "patricia"),
    "terry": ("terrence", "teresa"),
    "jo": ("joanne", "josephine", "joseph"),
    "fran": ("francis", "frances", "francisco", "francisca"),
    "frankie": ("frank", "francis", "frances", "francisco"),
    "frank": ("francis", "franklin", "francisco"),
    "gabe": ("gabriel",),
    "dani": ("daniel", "daniela"),
    "fer": ("fernando", "fernanda"),
    "beto": ("alberto", "roberto", "humberto"),
    "tito": ("alberto", "roberto", "hector", "ernesto"),
    "lucho": ("luis",),
    "lucha": ("luz", "lucia"),
    "nena": ("elena", "magdalena"),
    "cuco": ("refugio",),
    "maru": ("maria eugenia", "maria eugenia"),
    "jess": ("jessica", "jesse"),
    "jessie": ("jessica", "jesse"),
    "max": ("maximilian", "maximiliano", "maxwell"),
    "val": ("valerie", "valentin", "valentina"),
    "toby": ("tobias",),
    "lee": ("leroy", "leonard"),
    "jackie": ("jacqueline", "john"),
    "nikki": ("nicole",),
    "ronny": ("ronald", "veronica"),
    "bobbie": ("roberta", "robert"),
    "mel": ("melvin", "melissa", "melanie"),
    "ollie": ("oliver", "olivia"),
    "andi": ("andrea", "andrew"),
    "stef": ("stephanie", "stefan"),
    "angie": ("angela", "angelica"),
    "manny": ("manuel",),
    "rey": ("reynaldo", "reyes"),
    "bert": ("albert", "herbert", "robert", "hubert"),
    "jack": ("john", "jackson"),
    "harry": ("henry", "harold"),
    "liam": ("william",),
    "ted": ("edward", "theodore"),
    "teddy": ("edward", "theodore"),
    "jamie": ("james", "jamie"),
    "jan": ("janet", "janice", "jan"),
    "jerry": ("gerald", "jerome", "jeremiah"),
    "lou": ("louis", "louise", "lourdes"),
    "sandy": ("sandra", "alexander"),
    "mari": ("maria", "mariana", "marisol"),
    "toni": ("antonio", "antonia"),
    "drew": ("andrew",),
    "adri": ("adrian", "adriana"),
    "lulu": ("lourdes", "luisa"),
}

# Common given names (from the en_US, es_MX and es_ES name frequency lists, normalized). A
# name absent here is simply "unknown": the scorer then treats a small difference as a typo.
KNOWN_GIVEN_NAMES: frozenset[str] = frozenset(
    """
aaron abel abelardo abigail abilio abraham abril adalberto adam adan adela adelaida adelardo adelia
adelina adolfo adora adoracion adrian adriana adrienne africa agapito agata agueda agustin agustina
aida aimee ainara ainoa aitana aitor alan alba albano albert alberto albina albino alcides aldo
aldonza ale alec alejandra alejandro alejo alex alexa alexander alexandra alexandria alexis alfonso
alfred alfredo alice alicia alisha alison allen allison alma almudena alondra alonso alvaro alvin
alyssa amada amado amador amalia amancio amanda amando amarilis amaro amaya ambar amber ambrosio
amelia america americo amilcar amor amparo amy ana anabel anacleto anastasia anastasio andre andrea
andres andrew anel angel angela angeles angelica angelina angelino angelita angie ani anibal anita
ann anna anne annette anselma anselmo anthony antonia antonio anunciacion apolinar apolonia april
araceli aranzazu arcelia archibald ariadna ariana ariel aristides armando armida aroa arsenio
artemio arthur arturo ascension asdrubal ashlee ashley asuncion atilio audrey augusto aura aurea
aurelia aureliano aurelio aurora austin autumn azahar azahara azeneth azucena bailey baldomero
balduino baltasar barbara barry bartolome basilio baudelio bautista beatriz becky begona belen
belinda benigna benigno benita benito benjamin bernabe bernard bernarda bernardino bernardita
bernardo berta berto beth bethany betty beverly bianca bibiana bienvenida bill billy blake blanca
blas bob bobby bonifacio bonnie borja brad bradley brady brandi brandon brandy breanna brenda
brendan brent brett brian briana brianna bridget brigida brittany brittney brooke bruce brunilda
bruno bryan bryce buenaventura caitlin caitlyn caleb calista calisto calixta calixto calvin cameron
camila camilo candace candela candelaria candelario candelas candice candida candido caridad carina
carl carla carlito carlos carlota carly carmela carmelita carmelo carmen carmina carol carolina
caroline carolyn carrie casandra casemiro casey cassandra cassidy cassie catalina catherine cathy
cayetana cayetano cebrian cecilia cecilio ceferino celestina celestino celia celso cesar chad
charlene charles charlotte charo chase che chelo chelsea chelsey chema cheryl cheyenne chita chloe
chris christian christie christina christine christopher christy chucho chus chuy cindy cintia
cipriano ciriaco cirino ciro citlali claire clara clarence clarisa claudia claudio clayton clemente
clementina cleto clifford climaco clinton cloe clotilde cody cole colin colleen collin colton
concepcion concha conchita connie connor conrado constanza consuela consuelo coral corey cornelio
corona cory cosme courtney craig crescencia crescencio cristal cristian cristina cristobal cruz
crystal curro curtis custodia custodio cynthia dafne daisy dakota dale dalia dalila dalton damian
damon dan dana dani daniel daniela danielle danilo danny darin dario darius darlene darrell darren
darryl daryl dave david dawn dean deanna debbie debora deborah debra delfina delia demetrio denise
dennis derek derrick desiderio desiree destiny devin devon diamond diana diane diego dillon dimas
dionisia dionisio dolores dominga domingo dominic dominique domitila don donald donato donna dora
doris dorita dorotea dorothy douglas drew duane duilio dulce dustin dwayne dylan earl ebony eddie
edelmira edelmiro edgar edgardo edmundo edu eduardo edward edwin efrain eileen eladio elaine elba
elena eleuterio eli eliana elias eligia eligio elijah elisa elisabet eliseo elizabeth ellen elodia
eloisa eloy elpidio elsa elvia elvira ema emelina emigdio emilia emiliana emiliano emilio emily emma
emperatriz encarna encarnacion encarnita enrique epifanio erasmo eric erica erik erika erin ernest
ernesto esmeralda esparta espartaco esperanza espiridion esteban estefania estela ester esther
estrella etelvina ethan eufemia eugene eugenia eugenio eulalia eusebia eusebio eustaquio eutimio
eutropio eva evan evangelina evaristo evelia evelio evelyn evita ezequiel fabian fabiana fabio
fabiola fabricio faith fanny fatima faustino fausto febe federico felicia feliciana feliciano
felicidad felipa felipe felisa felix fermin fernanda fernando fidel fidela filomena fito flavia
flavio flor flora florencia florencio florentina florentino florina florinda fortunata fortunato
frances francis francisca francisco frank franklin fred frederick frida fulgencio gabino gabriel
gabriela gabriella gabrielle gail gala galo garrett gary gaspar gaston gavin gema genaro gene
genoveva geoffrey george georgina gerald geraldo gerardo german geronimo gertrudis gervasio gil
gilbert gilberto gina gisela glauco glen glenda glenn gloria godofredo gonzalo gordon goyo grace
gracia graciana graciano graciela grant greg gregg gregorio gregory griselda guadalupe guillermina
guillermo guiomar gustavo guy gwendolyn hailey haley hannah harold haroldo harry haydee hayden
hayley heather hector heidi helen helena heliodoro henry heraclio herbert herberto heriberto
hermelinda hermenegildo herminia herminio hernan hernando hilario hilda hipolito holly homero
horacio hortensia howard hugo humberto hunter ian iban ignacia ignacio iker ildefonso ileana ilse
imelda indira ines ingrid inigo inmaculada inocencio irene iris irma isa isaac isabel isabela
isabella isaiah isaias isaura isidora isidoro isidro ismael israel itzel itziar ivan ivonne jacinta
jacinto jack jackie jackson jaclyn jacob jacobo jacqueline jade jafet jaime jake james jamie jane
janet janice jaqueline jared jasmin jasmine jason javi javier javiera jay jean jeanette jeanne jeff
jeffery jeffrey jenaro jenna jennifer jenny jeremiah jeremias jeremy jermaine jerome jeronimo jerry
jesse jessica jesus jesusa jill jillian jim jimena jimmy jo joan joann joanna joanne joaquin
joaquina jocelyn jodi jody joe joel john johnathan johnny jon jonas jonatan jonathan jonathon jordan
jordana jordi jorge jos jose josefa josefina josep joseph josephine joshua josue jovita joy joyce
juan juana juanita juanito judith judy julia julian juliana julie julieta julio justin kaitlin
kaitlyn kara karen kari karina karl karla katelyn katherine kathleen kathryn kathy katie katrina
kayla kaylee keith kelli kellie kelly kelsey kendra kenneth kent kerri kerry kevin kiara kike kim
kimberly kirk kirsten krista kristen kristi kristie kristin kristina kristine kristopher kristy
krystal kurt kyle kylie lacey lalo lance lara larry latasha latoya laura lauren laurie lawrence
lazaro leah leandra leandro lee leire leocadia leocadio leon leonard leonardo leoncio leonel leonor
leopoldo leroy leslie leticia levi leyre lidia ligia lilia liliana lina linda lindsay lindsey lino
lisa lisandro logan loida lola lonnie lope lorena lorenza lorenzo loreto loretta lori lorraine louis
lourdes lucas lucho lucia luciana luciano lucila lucio luis luisa luisina luke luna lupe lupita luz
lydia lynn macarena macaria macario mackenzie madeline madison magdalena maite makayla malena malik
mallory mamen mandy manola manolo manu manuel manuela manuelita mar marc marcela marcelino marcelo
marcia marcial marciano marcio marco marcos marcus margaret margarita maria mariah mariana marianela
mariano maribel maricela maricruz marie marilyn marina marino mario marisa marisela marisol marissa
maristela marita mark marta martha martin martina martirio marvin mary mason mateo mathew matias
matilde matthew maura maureen maurice mauricio mauro max maxi maxima maximiano maximilian
maximiliano maximino maximo maxwell mayte mckenzie meagan megan meghan melania melanie melchor
melinda melisa melissa melody melvin mercedes merche meredith mia micaela michael michaela micheal
michele michelle miguel miguela mikayla mike milagros mindy minerva miranda mireia miriam mirta
misty mitchell mitzy modesta modesto mohamed moises molly monica monique montserrat morena moreno
morgan nacho nacio nadia nancy nando narcisa narciso natalia natalie natalio natanael natasha nathan
nathaniel natividad nayara nayeli nazaret nazario neil nelida nelly nerea nereida nestor nicanor
nicholas nichole nico nicodemo nicolas nicolasa nicole nidia nieves nilda nilo nina noa noah noe
noelia noemi norberto norma norman nuria nydia obdulia octavia octavio odalis odalys ofelia olalla
olegario olga olimpia oliver olivia omar onofre oriana oscar osvaldo oswaldo otilia ovidio pablo
paca pacifica paco paige palmira paloma pam pamela pancho panfilo paola parker pascual pascuala
pastor pastora patricia patricio patrick patty paul paula paulina paulino paz pedro peggy pelayo
penny pepe pepita pepito perla perlita perry peter petrona philip phillip phyllis pia piedad pilar
pili pio placido plinio poncio porfirio preston primitiva primitivo priscila priscilla prudencia
prudencio purificacion quique quirino rachael rachel rafa rafael rafaela raimundo ralph ramiro ramon
ramona randall randy raquel raul raven ray raymond rebeca rebecca rebekah refugio regina reginald
regulo reina reinaldo remedios remigio renata renato rene renee reyes reyna reynaldo rhonda ricarda
ricardo richard rick rickey ricky rico riley rita robert roberta roberto robin robyn rocio rodney
rodolfo rodrigo rogelio roger rolando roldan roman romulo ronald ronnie roque rosa rosalia rosalina
rosalinda rosalva rosario rosaura rose rosenda rosendo ross roxana roy ruben ruby rufina rufino
ruperta ruperto russell ruth ruy ryan sabas sabina sabrina sally salma salome salomon salud salvador
samanta samantha samu samuel sancho sandalio sandra sandy santiago santos sara sarah sarita
saturnina saturnino savannah scott sean sebastian segismundo selena serafin serafina sergio sessa
seth seve severiano severino severo shane shannon shari sharon shaun shawn shawna sheena sheila
shelby shelia shelley shelly sheri sherri sherry sheryl shirley sierra sigfrido silvano silvestre
silvia silvio simon socorro sofia sol soledad sonia sonya sophia soraya sosimo spencer stacey stacie
stacy stanley stefan stefanie stephanie stephen steve steven stuart sue summer susan susana susanita
suzanne sydney sylvia tabitha tadeo tamara tami tammie tammy tania tanner tanya tara tasha tatiana
taylor tecla telmo teo teobaldo teodora teodoro teodosio teofila teofilo tere teresa teresita
terrance terrence terri terry theodore theresa thomas tiburcio tiffany tim timoteo timothy tina tito
tobias todd tom tomas tomasa tommy toni tono tony tonya toribio tracey traci tracie tracy travis
trevor tricia trini trinidad tristan troy tyler tyrone ulises urbano uriel ursula valentin valentina
valeria valerie valerio valero vanesa vanessa vasco venceslas vera vernon veronica vicenta vicente
vicki vickie victor victoria victoriano victorino vidal vilma vincent vinicio violeta virgilio
virginia visitacion vito viviana walter wanda warren wayne wendolin wendy wesley whitney wilfredo
wilfrido william willie wyatt xavier ximena xiomara yago yaiza yeni yesenia yesica yessica yolanda
yuridia yvette yvonne zacarias zachary zaida zaira zeferino zoe zoraida
    """.split()
)
