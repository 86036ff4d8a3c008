# Transcribes the worked numbers of shared/methods/indices.md (sections 1-5) into the CSV files beside
# this script. The numbers are typed in from the methods file, not computed: rerun after editing it.
import csv
import pathlib

out = pathlib.Path(__file__).resolve().parent
out.mkdir(parents=True, exist_ok=True)
S = "indices.md"
data = [("A",2020,10,.5,2.8,0),("B",2020,20,.65,2.2,5),("C",2020,15,.4,3.0,2),("D",2020,30,.7,1.9,8),
        ("A",2021,12,.55,2.6,3),("B",2021,22,.66,2.1,6),("C",2021,18,.45,2.9,2),("D",2021,33,.72,1.8,9)]
with open(out/"n1_data.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["county","year","x1","x2","x3","x4","source"])
    for r in data: w.writerow(list(r)+[f"{S} §1.4 test vector N1 (x1 +, x2 +, x3 -, x4 +)"])
rows=[]
def add(vec, qty, labels, items, values, src):
    for lab, it, v in zip(labels, items, values):
        rows.append([vec, qty, lab, it, v, src])
X=["x1","x2","x3","x4"]; AD=["A","B","C","D"]
R8=["A-2020","B-2020","C-2020","D-2020","A-2021","B-2021","C-2021","D-2021"]
z20={"A":[0,0.333333,0.181818,0],"B":[0.5,0.833333,0.727273,0.625],"C":[0.25,0,0,0.25],"D":[1,1,1,1]}
for c,v in z20.items(): add("N1","z_year2020_noshift",[f"{c}-2020"]*4,X,v,f"{S} §1.4 N1 year-2020 min-max, no shift")
add("N1","z_pooled_shift0.0001",["A-2020"]*4,X,[0.0001,0.3126,0.166767,0.0001],f"{S} §1.4 N1 pooled +0.0001")
add("N1","z_pooled_shift0.0001",["D-2021"]*4,X,[1.0001]*4,f"{S} §1.4 N1 pooled +0.0001")
add("E1","e",["2020"]*4,X,[0.689392,0.730242,0.671069,0.699791],f"{S} §2.1 test vector E1")
add("E1","w",["2020"]*4,X,[0.256806,0.223031,0.271954,0.248208],f"{S} §2.1 test vector E1")
add("E1","S",[f"{c}-2020" for c in AD],["score"]*4,[0.123790,0.667178,0.126254,1.000000],f"{S} §2.1 test vector E1")
add("E1","w_shift0.0001",["2020"]*4,X,[0.256786,0.223041,0.271973,0.248201],f"{S} §2.1 E1 with +0.0001")
add("E1","w_rescale0.002",["2020"]*4,X,[0.256521,0.223202,0.272164,0.248113],f"{S} §2.1 E1 with [0.002, 0.998] rescale")
add("E2","e",["pooled"]*4,X,[0.839450,0.874056,0.833236,0.867968],f"{S} §2.1 test vector E2 (pooled, +0.0001, k=1/ln 8)")
add("E2","w",["pooled"]*4,X,[0.274309,0.215183,0.284925,0.225583],f"{S} §2.1 test vector E2")
add("E2","S",[f"{c}-2020" for c in AD],["score"]*4,[0.114832,0.602750,0.109862,0.902063],f"{S} §2.1 test vector E2 S2020")
add("E2","S",[f"{c}-2021" for c in AD],["score"]*4,[0.294989,0.682136,0.203007,1.000100],f"{S} §2.1 test vector E2 S2021")
for sh,v in [("0",[0.274323,0.215175,0.284906,0.225596]),("0.0001",[0.274309,0.215183,0.284925,0.225583]),
             ("0.01",[0.273155,0.216040,0.285501,0.225305]),("1.0",[0.243681,0.245420,0.284328,0.226571])]:
    add("E-shift",f"w_shift{sh}",["pooled"]*4,X,v,f"{S} §2.1 shift sensitivity table (pooled N1)")
add("E3","w",["2021"]*4,X,[0.248555,0.214668,0.238995,0.297782],f"{S} §2.1 E3 per-year normalization, 2021 weights (+0.0001)")
add("E3","S",[f"{c}-2021" for c in AD],["score"]*4,[0.187328,0.629399,0.071116,1.0001],f"{S} §2.1 E3 S2021")
add("W1","sigma",["pooled"]*4,X,[0.354745,0.377017,0.391977,0.351050],f"{S} §2.3 test vector W1 (CRITIC, pooled N1, no shift)")
add("W1","conflict",["pooled"]*4,X,[0.415443,0.336817,0.209189,0.213320],f"{S} §2.3 test vector W1")
add("W1","w",["pooled"]*4,X,[0.341746,0.294463,0.190141,0.173651],f"{S} §2.3 test vector W1")
add("W-CV","cv",["pooled"]*4,X,[0.407957,0.208459,0.194973,0.722161],f"{S} §2.4 CV test vector (pooled raw N1)")
add("W-CV","w",["pooled"]*4,X,[0.266021,0.135932,0.127138,0.470908],f"{S} §2.4 CV test vector")
add("W2","alpha_raw",["game"]*2,["entropy","critic"],[0.149736,0.861004],f"{S} §2.5 test vector W2 (E2 + W1)")
add("W2","alpha",["game"]*2,["entropy","critic"],[0.148145,0.851855],f"{S} §2.5 test vector W2")
add("W2","w_game",["pooled"]*4,X,[0.331755,0.282718,0.204182,0.181344],f"{S} §2.5 test vector W2")
add("W2","w_linear0.5",["pooled"]*4,X,[0.308027,0.254823,0.237533,0.199617],f"{S} §2.5 test vector W2")
add("W2","w_multiplicative",["pooled"]*4,X,[0.374293,0.252992,0.216309,0.156406],f"{S} §2.5 test vector W2")
add("T1","d_plus",R8,["topsis"]*8,[0.452101,0.212900,0.452057,0.051508,0.366734,0.171951,0.404930,0],f"{S} §3.1 test vector T1")
add("T1","d_minus",R8,["topsis"]*8,[0.082322,0.307039,0.077904,0.453890,0.159429,0.345445,0.115372,0.503606],f"{S} §3.1 test vector T1")
add("T1","closeness",R8,["topsis"]*8,[0.154039,0.590528,0.146999,0.898085,0.303003,0.667661,0.221740,1.0],f"{S} §3.1 test vector T1")
add("T1","closeness_vector",R8,["topsis"]*8,[0.078960,0.534844,0.203049,0.885984,0.277607,0.629101,0.257212,1.0],f"{S} §3.1 T1 vector-normalized variant (mathmodels::topsis)")
add("O1","obstacle",["A-2020"]*4,X,[0.309859,0.167111,0.268210,0.254819],f"{S} §5 test vector O1 (pooled unshifted z, weights E2)")
add("O1","obstacle",["C-2021"]*4,X,[0.224437,0.227778,0.327668,0.220117],f"{S} §5 test vector O1")
add("O1","obstacle",["D-2021"]*4,X,["nan"]*4,f"{S} §5 test vector O1 (ideal row: NaN)")
with open(out/"n1_expected.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["vector","quantity","row","item","value","source"]); w.writerows(rows)
cc=[("0.5;0.5",1,1,1,.5,.707107,.707107),("0.2;0.8",.8,.316228,.4,.5,.632456,.397635),
    ("0.1;0.9",.6,.149071,.2,.5,.547723,.273012),("0.01;0.99",.198997,.014213,"",.5,.315434,.084301),
    ("0.3;0.6",.942809,.591608,.7,.45,.651356,.515969),("0.05;0.1",.942809,.689202,.95,.075,.265915,.227355),
    ("0.8;0.9",.998268,.894427,.9,.85,.921156,.871931),("0.2;0.5;0.8",.861774,.487002,.510102,.5,.656420,.493458),
    ("0.3;0.3;0.3",1,1,1,.3,.547723,.547723),("0.1;0.5;0.9",.711379,.340506,.346803,.5,.596397,.412617),
    ("0.2;0.4;0.6;0.8",.885346,.550321,.552786,.5,.665337,.524558),("0.6;0.7;0.8;0.9",.988745,.802315,"",.75,.861138,.775716)]
with open(out/"coupling_cc1.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["U","C_traditional","C_wang","C_fan","T","D_traditional","D_wang","source"])
    for r in cc: w.writerow(list(r)+[f"{S} §4.4 test vectors CCDM (CC1), equal T weights"])
mc=[("traditional","mean",0.8588),("traditional","median",0.9428),("traditional","share_above_0.8",0.7515),("traditional","share_below_0.5",0.0708),
    ("wang","mean",0.5647),("wang","median",0.5793),("wang","share_above_0.8",0.2443),("wang","share_below_0.5",0.4108)]
with open(out/"coupling_montecarlo.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["model","statistic","value","decimals","source"])
    for r in mc: w.writerow(list(r)+[4,f"{S} §4.4 Monte Carlo, U ~ Uniform(0,1)^2, 100,000 draws, seed 0 (numpy default_rng(0).random((100000, 2)))"])
t8=[("Beijing",2008,0.9989,0.9404,0.320,0.291),("Chengde",2008,0.6101,0.2700,0.419,0.049)]
with open(out/"coupling_wang2021_table8.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["city","year","C_original","C_modified","U_max_implied","U_min_implied","source"])
    for r in t8: w.writerow(list(r)+[f"{S} §4.3 Table 8 consistency check examples (Wang et al. 2021, JNR 36(3), Table 8; U implied, 3 decimals)"])
dcl=[(0.0,0.1,"极度失调","extreme disorder"),(0.1,0.2,"严重失调","serious"),(0.2,0.3,"中度失调","moderate"),
     (0.3,0.4,"轻度失调","mild"),(0.4,0.5,"濒临失调","on the verge"),(0.5,0.6,"勉强协调","barely coordinated"),
     (0.6,0.7,"初级协调","primary"),(0.7,0.8,"中级协调","intermediate"),(0.8,0.9,"良好协调","good"),(0.9,1.0,"优质协调","high quality")]
cst=[(0,0.3,"低水平耦合","low-level coupling"),(0.3,0.5,"拮抗","antagonistic"),(0.5,0.8,"磨合","running-in"),(0.8,1.0,"高水平耦合","high-level coupling")]
with open(out/"coupling_classes.csv","w",newline="") as f:
    w=csv.writer(f); w.writerow(["table","lower","upper","label_zh","label_en_short","source"])
    for r in dcl: w.writerow(["D"]+list(r)+[f"{S} §4.5 (田深圳 et al. 2021, 地理学报 76(4):781, Table 1), intervals (lower, upper]"])
    for r in cst: w.writerow(["C"]+list(r)+[f"{S} §4.5 coupling stages (same table), intervals (lower, upper]"])
print(len(rows))
