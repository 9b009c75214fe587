-- population: ISTAT residents (latest year in the table) aged $eta_min..$eta_max (NULL = no bound)
-- of every comune of the ambito, sub-ambito and the ambito. Also the list of territories:
-- every comune appears, with 0 residents when it has none in the age range.
WITH ultimo AS (SELECT max(anno) AS anno FROM popolazione),
per_comune AS (
    SELECT c.comune, s.sub_ambito, coalesce(sum(p.residenti), 0) AS residenti
    FROM comuni AS c
    LEFT JOIN sub_ambiti AS s ON s.comune = c.comune
    LEFT JOIN popolazione AS p ON p.comune = c.comune AND p.anno = (SELECT anno FROM ultimo)
         AND ($eta_min::INTEGER IS NULL OR p.eta >= $eta_min::INTEGER)
         AND ($eta_max::INTEGER IS NULL OR p.eta <= $eta_max::INTEGER)
    GROUP BY c.comune, s.sub_ambito
)
SELECT CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       sum(residenti)::DOUBLE AS residenti
FROM per_comune
GROUP BY GROUPING SETS ((comune), (sub_ambito), ())
