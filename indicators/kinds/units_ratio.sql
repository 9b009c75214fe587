-- units_ratio: distinct persons or households with $num_interventi (event $num_evento) over distinct
-- persons or households with $den_interventi (event $den_evento), per year and territory: the integer keys
-- of their pseudonyms (etl/person_keys.py and distinct_units_rate.sql); `_records_units_ratio.sql` counts the
-- pseudonyms (a warehouse whose records lack keys).
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
lati AS (
    SELECT 'N' AS lato, $num_interventi::VARCHAR[] AS interventi, $num_evento::VARCHAR AS evento
    UNION ALL
    SELECT 'D', $den_interventi::VARCHAR[], $den_evento::VARCHAR
),
righe AS (
    SELECT l.lato, a.anno, p.comune, s.sub_ambito,
           CASE WHEN $per_nucleo::BOOLEAN AND p.nucleo_key IS NOT NULL THEN -p.nucleo_key
                ELSE p.persona_key END AS unita
    FROM prestazioni AS p
    JOIN lati AS l ON list_contains(l.interventi, p.intervento)
    JOIN anni AS a ON evento_in_anno(l.evento, p.data_inizio, p.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    WHERE list_contains(list_concat($num_interventi::VARCHAR[], $den_interventi::VARCHAR[]), p.intervento)
      AND p.data_inizio <= make_date(list_max($anni::INTEGER[]), 12, 31)
      AND (p.data_fine IS NULL OR p.data_fine >= make_date(list_min($anni::INTEGER[]), 1, 1))
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
