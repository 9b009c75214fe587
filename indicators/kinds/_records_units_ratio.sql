-- units_ratio: distinct persons or households with $num_interventi (event $num_evento) over distinct
-- persons or households with $den_interventi (event $den_evento), per year and territory.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
lati AS (
    SELECT 'N' AS lato, $num_interventi::VARCHAR[] AS interventi, $num_evento::VARCHAR AS evento
    UNION ALL
    SELECT 'D', $den_interventi::VARCHAR[], $den_evento::VARCHAR
),
righe AS (
    SELECT l.lato, a.anno, p.comune, s.sub_ambito,
           CASE WHEN $per_nucleo::BOOLEAN AND p.nucleo_id IS NOT NULL THEN 'N:' || p.nucleo_id
                ELSE 'P:' || p.persona_id END AS unita
    FROM prestazioni AS p
    JOIN lati AS l ON list_contains(l.interventi, p.intervento)
    JOIN anni AS a ON evento_in_anno(l.evento, p.data_inizio, p.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       (count(DISTINCT unita) FILTER (WHERE lato = 'N'))::DOUBLE AS numeratore,
       (count(DISTINCT unita) FILTER (WHERE lato = 'D'))::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
