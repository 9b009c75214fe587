-- coverage_share: residents (latest ISTAT year) of the comuni that have at least one sede of
-- $tipi_sede, over all residents, by comune, sub-ambito and ambito (does not depend on the year).
WITH ultimo AS (SELECT max(anno) AS anno FROM popolazione),
per_comune AS (
    SELECT c.comune, s.sub_ambito,
           coalesce(sum(p.residenti), 0) AS residenti,
           EXISTS (SELECT 1 FROM sedi AS d WHERE d.comune = c.comune
                   AND list_contains($tipi_sede::VARCHAR[], d.tipo)) AS con_sede
    FROM comuni AS c
    LEFT JOIN sub_ambiti AS s ON s.comune = c.comune
    LEFT JOIN popolazione AS p ON p.comune = c.comune AND p.anno = (SELECT anno FROM ultimo)
    GROUP BY c.comune, s.sub_ambito
)
SELECT CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       coalesce(sum(residenti) FILTER (WHERE con_sede), 0)::DOUBLE AS numeratore,
       sum(residenti)::DOUBLE AS denominatore
FROM per_comune
GROUP BY GROUPING SETS ((comune), (sub_ambito), ())
